"""The duplicate review queue (疑似重复). Included from aidcases/urls.py."""

from django.urls import path

from aidcases.review import views

urlpatterns = [
    path("people/review/", views.duplicate_review, name="duplicate_review"),
    path("people/review/merge/", views.person_merge, name="person_merge"),
    path("people/review/distinct/", views.person_distinct, name="person_distinct"),
]
