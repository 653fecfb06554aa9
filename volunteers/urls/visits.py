"""URLs: visits."""

urlpatterns: list = []
