"""Filters of the people list (帮扶对象名单), shared by the page and its Excel export.

The export job re-applies exactly this FilterSet to `selectors.people_for(user=...)`
at run time, so the file holds what the list showed — within the scope the
requester has *when the job runs*.

Leaf apps add filters on their own data (就读学校 and 年级 today; later 服务队,
资助项目) without the hub knowing them: in AppConfig.ready() they call

    register_case_filter(CaseFilter(
        name="team",                         # the GET parameter and form field
        filter=ModelChoiceFilter(...),       # label, field, widget; copied for every list
        condition=lambda team: Q(pairings__team=team),  # a Q on AidCase
        limit=limit_teams,                   # optional: narrow the choices
        order=10,                            # place among the other registered filters
    ))

`condition` turns the cleaned value into a Q on `AidCase`; it joins the
category, level and flags of the list in one EXISTS over the person's *open*
cases, so "困难学生 + 城关中学" means one open 困难学生 case at that 学校.
`limit(field, scope)` narrows the field's choices to what the user (and the
township chosen on the list) may pick; a value outside them is a form error,
which empties the list. Registered filters show after 困难类型, in `order`, and
their parameters go into the export's params like the hub's own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.contrib.postgres.expressions import ArraySubquery
from django.core.validators import EMPTY_VALUES
from django.db.models import (
    CharField,
    Exists,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils.translation import gettext_lazy as _

from aidcases import access, selectors
from aidcases.models import HARDSHIP_FLAGS, AidCase, Area, Person, User, hardship_level_choices
from aidcases.widgets import FastSelect


@dataclass(frozen=True)
class FilterScope:
    """What a registered filter's `limit` may narrow its choices by."""

    user: User
    township: Area | None  # the township chosen on the list, if any
    data: Any  # the list's raw parameters (a QueryDict or dict), for the chosen value


@dataclass(frozen=True)
class CaseFilter:
    """A people-list filter on leaf data of one open case (see the module docstring)."""

    name: str
    filter: django_filters.Filter
    condition: Callable[[Any], Q]
    limit: Callable[[forms.Field, FilterScope], None] | None = None
    order: int = 100


_CASE_FILTERS: dict[str, CaseFilter] = {}


def register_case_filter(case_filter: CaseFilter) -> CaseFilter:
    existing = _CASE_FILTERS.get(case_filter.name)
    if existing is not None and existing is not case_filter:
        raise ValueError(f"people filter {case_filter.name!r} registered twice")
    _CASE_FILTERS[case_filter.name] = case_filter
    return case_filter


def unregister_case_filter(name: str) -> None:
    _CASE_FILTERS.pop(name, None)


def case_filters() -> list[CaseFilter]:
    return sorted(_CASE_FILTERS.values(), key=lambda f: (f.order, f.name))


# Whitelisted sort keys → ORDER BY. `id` last keeps pages stable.
SORTS: dict[str, tuple] = {
    "village": ("area__path", "name_sort", "id"),
    "name": ("name_sort", "id"),
    "-name": ("-name_sort", "-id"),
    # People without a birth date go last either way.
    "birth": (F("birth_date").asc(nulls_last=True), "id"),
    "-birth": (F("birth_date").desc(nulls_last=True), "-id"),
    "newest": ("-created_at", "-id"),
}
SORT_CHOICES = [
    ("village", _("按村(社区)")),
    ("name", _("按姓名")),
    ("-name", _("按姓名（倒序）")),
    ("birth", _("按出生日期（年长在前）")),
    ("-birth", _("按出生日期（年幼在前）")),
    ("newest", _("最新登记在前")),
]
DEFAULT_SORT = "village"

STATUS_CHOICES = [
    ("open", _("有在册档案")),
    ("closed", _("仅有已结案档案")),
    ("none", _("尚未建档")),
]


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        parent = obj.parent.name if obj.parent_id else ""
        return f"{parent} · {obj.name}" if parent else obj.name


class VillageFilter(django_filters.ModelChoiceFilter):
    field_class = VillageChoiceField


def _noop(queryset, name, value):
    return queryset


def _after_flags(hub_filters: dict, registered: dict) -> dict:
    """The registered filters go with the hub's case filters, before 档案状态."""
    items = list(hub_filters.items())
    at = list(hub_filters).index("flags") + 1
    return dict(items[:at] + list(registered.items()) + items[at:])


class PersonFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("搜索"),
        method="filter_search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("姓名、拼音或首字母、身份证/电话尾号"),
                "autocomplete": "off",
            }
        ),
    )
    # An exact ID lookup by keyed hash: what an export stores instead of a
    # whole ID number typed into the search box (job params and audit rows
    # must not hold clear ID numbers).
    idh = django_filters.CharFilter(field_name="id_number_hash", widget=forms.HiddenInput, label="")
    # A tail typed into the search box (ID 4/6, phone 4), as the keyed-hash tokens it
    # searches by: what an export stores instead of the tail itself. Applied together in
    # `filter_queryset` (either token matches), the ID one only for a role that may
    # search by ID tail at the time the export runs.
    qid = django_filters.CharFilter(method="filter_by_token", widget=forms.HiddenInput, label="")
    qphone = django_filters.CharFilter(method="filter_by_token", widget=forms.HiddenInput, label="")
    township = django_filters.ModelChoiceFilter(
        label=_("乡(镇)"),
        queryset=Area.objects.none(),
        method="filter_subtree",
        empty_label=_("全部"),
        widget=FastSelect,
    )
    village = VillageFilter(
        label=_("村(社区)"),
        queryset=Area.objects.none(),
        method="filter_subtree",
        empty_label=_("全部"),
        widget=FastSelect,
    )
    category = django_filters.ChoiceFilter(
        label=_("帮扶类别（在册）"),
        choices=AidCase.Category.choices,
        method=_noop,
        empty_label=_("全部"),
    )
    level = django_filters.ChoiceFilter(
        label=_("认定等级"), choices=hardship_level_choices, method=_noop, empty_label=_("全部")
    )
    flags = django_filters.MultipleChoiceFilter(
        label=_("困难类型（符合任一）"),
        choices=HARDSHIP_FLAGS,
        method=_noop,
        widget=forms.CheckboxSelectMultiple,
    )
    status = django_filters.ChoiceFilter(
        label=_("档案状态"), choices=STATUS_CHOICES, method="filter_status", empty_label=_("全部")
    )
    gender = django_filters.ChoiceFilter(
        label=_("性别"), choices=Person.Gender.choices, empty_label=_("全部")
    )
    sort = django_filters.ChoiceFilter(
        label=_("排序"), choices=SORT_CHOICES, method=_noop, empty_label=None
    )

    class Meta:
        model = Person
        fields: list[str] = []

    @classmethod
    def param_names(cls) -> list[str]:
        """The list's parameters, registered filters included, in form order."""
        return list(_after_flags(cls.base_filters, {f.name: f for f in case_filters()}))

    def __init__(self, data=None, *args, user: User, **kwargs):
        if data is not None and data.get("sort") and data.get("sort") not in SORTS:
            # An unknown sort key (an old bookmark) falls back to the default
            # order instead of emptying the list.
            data = data.copy()
            data.pop("sort")
        super().__init__(data, *args, **kwargs)
        self.user = user
        registered = {}
        for case_filter in case_filters():
            filter_ = copy.deepcopy(case_filter.filter)
            filter_.model, filter_.parent = Person, self
            filter_.method = _noop  # applied in filter_queryset, in the open-case EXISTS
            registered[case_filter.name] = filter_
        self.filters = _after_flags(self.filters, registered)
        fields = self.form.fields
        areas = access.areas_for(user)
        fields["township"].queryset = areas.filter(level=Area.Level.TOWNSHIP).order_by("path")
        villages = areas.filter(level=Area.Level.VILLAGE).order_by("path")
        # Narrow the villages to the chosen township (htmx refreshes them on change).
        township = None
        township_id = (data or {}).get("township")
        village_id = (data or {}).get("village")
        if township_id and str(township_id).isdigit():
            township = areas.filter(pk=township_id, level=Area.Level.TOWNSHIP).first()
            if township is not None:
                villages = villages.filter(path__startswith=township.path)
        elif access.sees_everything(user):
            # A county holds hundreds of villages (a province, thousands): list
            # them once a township is chosen, or the siblings of a chosen village.
            village = None
            if village_id and str(village_id).isdigit():
                village = areas.filter(pk=village_id, level=Area.Level.VILLAGE).first()
            villages = villages.filter(parent_id=village.parent_id) if village else villages.none()
            fields["village"].help_text = _("先选择乡镇")
        fields["village"].queryset = villages
        scope = FilterScope(user=user, township=township, data=data or {})
        for case_filter in case_filters():
            if case_filter.limit is not None:
                case_filter.limit(fields[case_filter.name], scope)
        fields["sort"].initial = DEFAULT_SORT
        fields["sort"].required = False
        if not access.sees_everything(user):
            # A township user has one township: the village list says enough.
            fields["township"].widget = forms.HiddenInput()

    def refresh_villages_from(self, url: str) -> None:
        """On the page (not in the export worker): choosing a township reloads
        the village options through htmx."""
        self.form.fields["township"].widget.attrs.update(
            {"hx-get": url, "hx-target": "#id_village", "hx-trigger": "change"}
        )

    # --- filter methods ---------------------------------------------------

    def filter_search(self, queryset, name, value):
        return selectors.people_search(
            queryset, value, id_tails=self.user.has_perm("aidcases.reveal_id_number")
        )

    def filter_by_token(self, queryset, name, value):
        return queryset  # qid and qphone are one OR condition: see filter_queryset

    def _tail_tokens(self, data: dict) -> list[str] | None:
        if not (data.get("qid") or data.get("qphone")):
            return None
        tokens = [data["qphone"]] if data.get("qphone") else []
        if data.get("qid") and self.user.has_perm("aidcases.reveal_id_number"):
            tokens.append(data["qid"])
        return tokens

    def filter_subtree(self, queryset, name, value):
        return queryset.filter(area__path__startswith=value.path)

    def filter_status(self, queryset, name, value):
        cases = AidCase.objects.filter(person=OuterRef("pk"))
        open_cases = cases.filter(status=AidCase.Status.OPEN)
        if value == "open":
            return queryset.filter(Exists(open_cases))
        if value == "closed":
            return queryset.filter(Exists(cases)).exclude(Exists(open_cases))
        return queryset.exclude(Exists(cases))

    def _case_condition(self, data: dict) -> Q | None:
        # The filters that look at a case (category, level, flags and the
        # registered ones) make one condition for a single EXISTS: "困难学生 +
        # 特别困难" means one case that is both, not two cases.
        q = Q()
        if data.get("category"):
            q &= Q(category=data["category"])
        if data.get("level"):
            q &= Q(hardship_level=data["level"])
        if data.get("flags"):
            q &= Q(flags__overlap=list(data["flags"]))
        for case_filter in case_filters():
            value = data.get(case_filter.name)
            if value not in EMPTY_VALUES:
                q &= case_filter.condition(value)
        return q if q.children else None

    def filter_queryset(self, queryset):
        if self.form.errors:
            # A value outside the user's choices (another township's id in a
            # hand-edited URL) shows the error and nothing else.
            return queryset.none()
        data = self.form.cleaned_data
        queryset = super().filter_queryset(queryset)
        tokens = self._tail_tokens(data)
        if tokens is not None:
            queryset = queryset.filter(search_tokens__overlap=tokens)
        condition = self._case_condition(data)
        if condition is not None:
            matching = AidCase.objects.filter(
                condition, person=OuterRef("pk"), status=AidCase.Status.OPEN
            )
            queryset = queryset.filter(Exists(matching))
        return queryset.order_by(*SORTS.get(data.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT]))

    @property
    def qs(self):
        if not self.is_bound:
            # Unfiltered first visit: still the default order.
            return self.queryset.order_by(*SORTS[DEFAULT_SORT])
        return super().qs


# --- what the list page and the export read ------------------------------------


def township_name_expression() -> Subquery:
    """The township a person's area lies in, by the path's second code
    ("/county/township/village/"): one indexed lookup, no extra joins."""
    code = Func(
        OuterRef("area__path"),
        Value("/"),
        Value(3),
        function="split_part",
        output_field=CharField(),
    )
    return Subquery(Area.objects.filter(code=code).values("name")[:1], output_field=CharField())


def with_list_columns(queryset: QuerySet) -> QuerySet:
    """Open cases prefetched, township annotated: the list page's query count
    does not grow with its rows."""
    open_cases = AidCase.objects.filter(status=AidCase.Status.OPEN).order_by("category")
    return queryset.annotate(township_name=township_name_expression()).prefetch_related(
        Prefetch("cases", queryset=open_cases, to_attr="open_cases")
    )


def with_export_columns(queryset: QuerySet) -> QuerySet:
    """Everything the export writes as plain values, per row, with no prefetch:
    streamed with .iterator() it stays constant-memory."""
    open_cases = AidCase.objects.filter(person=OuterRef("pk"), status=AidCase.Status.OPEN).order_by(
        "category"
    )
    return queryset.annotate(
        township_name=township_name_expression(),
        open_categories=ArraySubquery(open_cases.values("category")),
        open_levels=ArraySubquery(open_cases.values("hardship_level")),
        open_flags=ArraySubquery(
            open_cases.annotate(flag=Func(F("flags"), function="unnest")).values("flag")
        ),
    ).values(
        "pk",
        "name",
        "gender",
        "birth_date",
        "id_number_encrypted",
        "no_id_reason",
        "phone",
        "area__name",
        "area__level",
        "area__parent__name",
        "township_name",
        "open_categories",
        "open_levels",
        "open_flags",
    )
