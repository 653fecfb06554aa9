from django.urls import path

from students import views

urlpatterns = [
    path("schools/", views.school_list, name="school_list"),
    path("schools/new/", views.school_create, name="school_create"),
    path("schools/<int:pk>/", views.school_roster, name="school_roster"),
    path("schools/<int:pk>/edit/", views.school_edit, name="school_edit"),
    path("cases/<int:case_pk>/student/", views.student_profile_edit, name="student_profile_edit"),
    path(
        "cases/<int:case_pk>/left-behind/",
        views.left_behind_profile_edit,
        name="left_behind_profile_edit",
    ),
]
