"""URLs of the roster import (included at "" by aidcases/urls.py)."""

from django.urls import path

from aidcases import views_import

urlpatterns = [
    path("people/import/", views_import.people_import_start, name="people_import"),
    path(
        "people/import/template/",
        views_import.people_import_template,
        name="people_import_template",
    ),
    path(
        "people/import/<str:token>/",
        views_import.people_import_preview,
        name="people_import_preview",
    ),
    path(
        "people/import/<str:token>/confirm/",
        views_import.people_import_confirm,
        name="people_import_confirm",
    ),
    path(
        "people/import/<str:token>/report/",
        views_import.people_import_report,
        name="people_import_report",
    ),
]
