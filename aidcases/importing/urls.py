"""URLs of every import kind (included at "" by aidcases/urls.py): /imports/<kind>/…"""

from django.urls import path

from aidcases.importing import views

urlpatterns = [
    path("imports/<slug:kind>/", views.import_start, name="import_start"),
    path("imports/<slug:kind>/template/", views.import_template, name="import_template"),
    path("imports/<slug:kind>/<str:token>/", views.import_preview, name="import_preview"),
    path("imports/<slug:kind>/<str:token>/confirm/", views.import_confirm, name="import_confirm"),
    path("imports/<slug:kind>/<str:token>/cancel/", views.import_cancel, name="import_cancel"),
    path("imports/<slug:kind>/<str:token>/report/", views.import_report, name="import_report"),
]

# The address the registry's roster upload always had (links, bookmarks); the area tree's
# (areas/load/) is in aidcases/urls.py, before areas/<code>/.
urlpatterns += [
    path("people/import/", views.import_start, {"kind": "people"}, name="people_import"),
]
