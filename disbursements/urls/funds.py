"""URLs: where money comes from (sources, funds, entries, goods) and programmes."""

from django.urls import path

from disbursements.views import funds as views

urlpatterns = [
    path("money/sources/", views.source_list, name="source_list"),
    path("money/sources/new/", views.source_create, name="source_create"),
    path("money/sources/<int:pk>/edit/", views.source_edit, name="source_edit"),
    path("money/funds/", views.fund_list, name="fund_list"),
    path("money/funds/new/", views.fund_create, name="fund_create"),
    path("money/funds/<int:pk>/", views.fund_detail, name="fund_detail"),
    path("money/funds/<int:pk>/edit/", views.fund_edit, name="fund_edit"),
    path("money/funds/<int:pk>/deactivate/", views.fund_deactivate, name="fund_deactivate"),
    path("money/funds/<int:pk>/reactivate/", views.fund_reactivate, name="fund_reactivate"),
    path("money/people/pick/", views.person_pick, name="money_person_pick"),
    path("money/entries/", views.entry_list, name="entry_list"),
    path("money/entries/new/", views.entry_create, name="entry_create"),
    path("money/entries/<int:pk>/", views.entry_detail, name="entry_detail"),
    path("money/entries/<int:pk>/edit/", views.entry_edit, name="entry_edit"),
    path("money/entries/<int:pk>/post/", views.entry_post, name="entry_post"),
    path("money/entries/<int:pk>/cancel/", views.entry_cancel, name="entry_cancel"),
    path("money/goods/", views.goods_list, name="goods_list"),
    path("money/goods/new/", views.goods_create, name="goods_create"),
    path("money/goods/<int:pk>/", views.goods_detail, name="goods_detail"),
    path("money/goods/<int:pk>/distribute/", views.goods_distribute, name="goods_distribute"),
    path("money/programmes/", views.programme_list, name="programme_list"),
    path("money/programmes/new/", views.programme_create, name="programme_create"),
    path("money/programmes/<int:pk>/edit/", views.programme_edit, name="programme_edit"),
]
