"""URLs: teams, volunteers, memberships, team activities."""

from django.urls import path

from volunteers.views import teams as views

urlpatterns = [
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
    path("teams/<int:pk>/members/add/", views.team_member_add, name="team_member_add"),
    path("teams/<int:pk>/activities/new/", views.activity_create, name="activity_create"),
    path("memberships/<int:pk>/end/", views.team_member_end, name="team_member_end"),
    path("volunteers/", views.volunteer_list, name="volunteer_list"),
    path("volunteers/new/", views.volunteer_create, name="volunteer_create"),
    path("volunteers/<int:pk>/", views.volunteer_detail, name="volunteer_detail"),
    path("volunteers/<int:pk>/edit/", views.volunteer_edit, name="volunteer_edit"),
    path("volunteers/<int:pk>/reveal/", views.volunteer_reveal, name="volunteer_reveal"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activity-photos/<int:pk>/", views.activity_photo, name="activity_photo"),
]
