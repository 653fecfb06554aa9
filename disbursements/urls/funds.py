"""URLs: funds."""

urlpatterns: list = []
