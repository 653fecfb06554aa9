"""URLs of the people registry screens (included at "" by aidcases/urls.py)."""

from django.urls import path

from aidcases import exports_people, views_people  # noqa: F401  (exports_people registers its job kind)

urlpatterns = [
    path("people/", views_people.person_list, name="person_list"),
    path("people/new/", views_people.person_create, name="person_create"),
    path("people/villages/", views_people.person_village_options, name="person_village_options"),
    path("people/export/", views_people.person_export, name="person_export"),
    path("people/<int:pk>/edit/", views_people.person_edit, name="person_edit"),
    path("people/<int:pk>/cases/new/", views_people.case_create, name="case_create"),
    path("cases/<int:pk>/edit/", views_people.case_edit, name="case_edit"),
    path("cases/<int:pk>/close/", views_people.case_close, name="case_close"),
]
