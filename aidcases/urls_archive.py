"""The 一人一档 archive page and attachments (included by aidcases.urls)."""

from django.urls import path

from aidcases import archive_sections, views_archive  # noqa: F401  (registers the hub's sections)

urlpatterns = [
    path("people/<int:pk>/", views_archive.person_detail, name="person_detail"),
    path(
        "people/<int:pk>/reveal/<str:field>/",
        views_archive.person_reveal,
        name="person_reveal",
    ),
    path(
        "people/<int:pk>/attachments/",
        views_archive.attachment_upload,
        name="attachment_upload",
    ),
    path("attachments/<int:pk>/", views_archive.attachment_download, name="attachment_download"),
    path(
        "attachments/<int:pk>/remove/",
        views_archive.attachment_remove,
        name="attachment_remove",
    ),
    path(
        "attachments/<int:pk>/photo/",
        views_archive.attachment_set_photo,
        name="attachment_set_photo",
    ),
]
