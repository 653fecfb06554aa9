"""The duplicate review queue (疑似重复). Included from aidcases/urls.py."""

from django.urls import path

from aidcases import views_review

urlpatterns = [
    path("people/review/", views_review.duplicate_review, name="duplicate_review"),
    path("people/review/merge/", views_review.person_merge, name="person_merge"),
    path("people/review/distinct/", views_review.person_distinct, name="person_distinct"),
]
