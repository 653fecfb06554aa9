"""URLs: batches, their lines, the 公示 and the payout list."""

from django.urls import path

from disbursements.views import batches as views

urlpatterns = [
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/new/", views.batch_create, name="batch_create"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/do/<slug:action>/", views.batch_action, name="batch_action"),
    path("batches/<int:pk>/bulk/", views.batch_bulk, name="batch_bulk"),
    path("batches/<int:pk>/nominate/", views.batch_nominate, name="batch_nominate"),
    path("batches/<int:pk>/suggest/", views.batch_suggest, name="batch_suggest"),
    path("batches/<int:pk>/publicity/", views.batch_publicity, name="batch_publicity"),
    path(
        "batches/<int:pk>/publicity.xlsx", views.batch_publicity_xlsx, name="batch_publicity_xlsx"
    ),
    path("batches/<int:pk>/payout/", views.batch_payout_export, name="batch_payout_export"),
    path("aid-lines/<int:pk>/do/<slug:action>/", views.line_action, name="line_action"),
    path("aid-lines/<int:pk>/pay/", views.line_pay, name="line_pay"),
    path("aid-lines/<int:pk>/reverse/", views.line_reverse, name="line_reverse"),
]
