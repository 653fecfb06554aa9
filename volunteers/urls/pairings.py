"""URLs: pairings."""

urlpatterns: list = []
