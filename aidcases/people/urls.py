"""URLs of the people registry screens (included at "" by aidcases/urls.py)."""

from django.urls import path

from aidcases.people import views

urlpatterns = [
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/villages/", views.person_village_options, name="person_village_options"),
    path("people/export/", views.person_export, name="person_export"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/close/", views.case_close, name="case_close"),
]
