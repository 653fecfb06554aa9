"""URLs: visits, due visits, the coverage grid, follow-ups."""

from django.urls import path

from volunteers.views import visits as views

urlpatterns = [
    path("visits/", views.visit_list, name="visit_list"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("visits/new/people/", views.visit_case_search, name="visit_case_search"),
    path("visits/due/", views.visit_due, name="visit_due"),
    path("visits/coverage/", views.visit_coverage, name="visit_coverage"),
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path(
        "visits/<int:pk>/follow-ups/new/",
        views.visit_follow_up_create,
        name="visit_follow_up_create",
    ),
    path("follow-ups/", views.follow_up_list, name="follow_up_list"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow_up_detail"),
]
