"""URLs: batches."""

urlpatterns: list = []
