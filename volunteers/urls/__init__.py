"""URL patterns of the volunteers app, one module per concern."""

from volunteers.urls import pairings, teams, visits

urlpatterns = [*teams.urlpatterns, *pairings.urlpatterns, *visits.urlpatterns]
