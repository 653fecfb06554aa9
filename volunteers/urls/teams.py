"""URLs: teams."""

urlpatterns: list = []
