"""URL patterns of the money app, one module per concern."""

from disbursements.urls import batches, funds

urlpatterns = [*funds.urlpatterns, *batches.urlpatterns]
