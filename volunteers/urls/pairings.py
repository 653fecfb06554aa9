"""URLs: pairings."""

from django.urls import path

from volunteers.views import pairings as views

urlpatterns: list = [
    path("pairings/", views.pairing_list, name="pairing_list"),
    path("pairings/new/", views.pairing_create, name="pairing_create"),
    path("pairings/<int:pk>/", views.pairing_detail, name="pairing_detail"),
    path(
        "pairings/<int:pk>/confirm-volunteers/",
        views.pairing_step,
        {"step": "confirm_volunteers"},
        name="pairing_confirm_volunteers",
    ),
    path(
        "pairings/<int:pk>/confirm-person/",
        views.pairing_step,
        {"step": "confirm_person"},
        name="pairing_confirm_person",
    ),
    path("pairings/<int:pk>/end/", views.pairing_step, {"step": "end"}, name="pairing_end"),
    path(
        "pairings/<int:pk>/cancel/", views.pairing_step, {"step": "cancel"}, name="pairing_cancel"
    ),
    path(
        "pairings/<int:pk>/volunteers/",
        views.pairing_step,
        {"step": "set_volunteers"},
        name="pairing_set_volunteers",
    ),
]
