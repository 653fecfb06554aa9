from django.contrib.auth import views as auth_views
from django.urls import include, path

from aidcases import areapicker, views
from aidcases.admin import build_site
from aidcases.importing import views as import_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # accounts
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    # areas
    path("areas/", views.area_list, name="area_list"),
    path("areas/options/", areapicker.area_options, name="area_options"),
    path("areas/load/", import_views.import_start, {"kind": "areas"}, name="area_load"),
    path("areas/<str:code>/", views.area_detail, name="area_detail"),
    # users
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("users/<int:pk>/password/", views.user_password, name="user_password"),
    # audit
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/history/", views.history_list, name="history_list"),
    path(
        "audit/history/<str:model>/<int:pgh_id>/reveal/<str:field>/",
        views.history_reveal,
        name="history_reveal",
    ),
    path("audit/export/", views.audit_export, name="audit_export"),
    # jobs
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/download/", views.job_download, name="job_download"),
    # Django admin: system admins only, no history screens (aidcases/admin.py).
    path("django-admin/", build_site().urls),
    path("", include("aidcases.people.urls")),
    path("", include("aidcases.archive.urls")),
    path("", include("aidcases.importing.urls")),
    path("", include("aidcases.review.urls")),
    path("", include("aidcases.notifications.urls")),
    path("", include("students.urls")),
    path("", include("disbursements.urls")),
    path("", include("volunteers.urls")),
]

handler403 = "aidcases.errors.permission_denied"
handler404 = "aidcases.errors.not_found"
