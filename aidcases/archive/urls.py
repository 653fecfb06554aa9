"""The 一人一档 archive page and attachments (included by aidcases.urls)."""

from django.urls import path

from aidcases.archive import views

urlpatterns = [
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/reveal/<str:field>/", views.person_reveal, name="person_reveal"),
    path("people/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/remove/", views.attachment_remove, name="attachment_remove"),
    path("attachments/<int:pk>/photo/", views.attachment_set_photo, name="attachment_set_photo"),
]
