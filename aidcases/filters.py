from __future__ import annotations

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from aidcases.audit import VERBS
from aidcases.models import AuditEvent, User

_date = forms.DateInput(attrs={"type": "date"})


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(
        label=_("操作人"), queryset=User.objects.order_by("username")
    )
    verb = django_filters.ChoiceFilter(label=_("操作"), choices=[])
    object_type = django_filters.ModelChoiceFilter(
        label=_("对象类型"), queryset=ContentType.objects.filter(app_label="aidcases")
    )
    q = django_filters.CharFilter(label=_("对象/详情包含"), method="filter_q")
    start = django_filters.DateFilter(
        label=_("开始日期"), field_name="at", lookup_expr="date__gte", widget=_date
    )
    end = django_filters.DateFilter(
        label=_("结束日期"), field_name="at", lookup_expr="date__lte", widget=_date
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "verb", "object_type", "q", "start", "end"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["verb"].extra["choices"] = [(k, str(v)) for k, v in VERBS.items()]
        self.filters["object_type"].queryset = ContentType.objects.all().order_by("app_label")

    def filter_q(self, queryset, name, value):
        from django.db.models import Q, TextField
        from django.db.models.functions import Cast

        return queryset.annotate(details_text=Cast("details", TextField())).filter(
            Q(object_repr__icontains=value) | Q(details_text__icontains=value)
        )


class HistoryFilter(django_filters.FilterSet):
    """Filters over pghistory's aggregated event view."""

    model = django_filters.ChoiceFilter(label=_("数据表"), method="filter_model", choices=[])
    label = django_filters.ChoiceFilter(
        label=_("变更类型"),
        field_name="pgh_label",
        choices=[("insert", _("新增")), ("update", _("修改"))],
    )
    user = django_filters.ModelChoiceFilter(
        label=_("操作人"), queryset=User.objects.order_by("username"), method="filter_user"
    )
    start = django_filters.DateFilter(
        label=_("开始日期"), field_name="pgh_created_at", lookup_expr="date__gte", widget=_date
    )
    end = django_filters.DateFilter(
        label=_("结束日期"), field_name="pgh_created_at", lookup_expr="date__lte", widget=_date
    )

    def __init__(self, *args, models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["model"].extra["choices"] = list(models)

    def filter_model(self, queryset, name, value):
        return queryset.filter(pgh_model=value)

    def filter_user(self, queryset, name, value):
        # On the aggregate Events view pgh_context already is the metadata.
        return queryset.filter(user=value)
