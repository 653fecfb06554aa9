"""Filters of the people list (帮扶对象名单), shared by the page and its Excel export.

The export job re-applies exactly this FilterSet to `selectors.people_for(user=...)`
at run time, so the file holds what the list showed — within the scope the
requester has *when the job runs*.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.apps import apps
from django.contrib.postgres.expressions import ArraySubquery
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

# Filters that look at one open case: combined into a single EXISTS so that
# "困难学生 + 特别困难" means one student case that is 特别困难.
CASE_FILTERS = ("category", "level", "flags", "school", "grade")


def school_model():
    """The students app's School, without importing that app (dependency rule)."""
    try:
        return apps.get_model("students", "School")
    except LookupError:
        return None


def schools_for(user: User) -> QuerySet | None:
    """Schools a user may pick: those in their subtree and those above it
    (a county high school takes children of every township)."""
    school = school_model()
    if school is None:
        return None
    qs = school.objects.filter(is_active=True).select_related("area").order_by("area__path", "name")
    if access.sees_everything(user):
        return qs
    if not (user.is_authenticated and user.is_active and user.area_id):
        return qs.none()
    ancestor_codes = [c for c in user.area.path.strip("/").split("/") if c]
    return qs.filter(Q(area__path__startswith=user.area.path) | Q(area__code__in=ancestor_codes))


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        parent = obj.parent.name if obj.parent_id else ""
        return f"{parent} · {obj.name}" if parent else obj.name


class SchoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name}（{obj.area.name}）"


class VillageFilter(django_filters.ModelChoiceFilter):
    field_class = VillageChoiceField


class SchoolFilter(django_filters.ModelChoiceFilter):
    field_class = SchoolChoiceField


def _noop(queryset, name, value):
    return queryset


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
    school = SchoolFilter(
        label=_("就读学校"),
        queryset=Area.objects.none(),
        method=_noop,
        empty_label=_("全部"),
        widget=FastSelect,
    )
    grade = django_filters.CharFilter(label=_("年级"), method=_noop)
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

    def __init__(self, data=None, *args, user: User, **kwargs):
        if data is not None and data.get("sort") and data.get("sort") not in SORTS:
            # An unknown sort key (an old bookmark) falls back to the default
            # order instead of emptying the list.
            data = data.copy()
            data.pop("sort")
        super().__init__(data, *args, **kwargs)
        self.user = user
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
        schools = schools_for(user)
        if schools is None:
            del fields["school"], fields["grade"]
        else:
            if access.sees_everything(user):
                # As with villages: the chosen township's schools (and county-level
                # ones), or those of the school already chosen.
                chosen = township
                school_id = (data or {}).get("school")
                if chosen is None and school_id and str(school_id).isdigit():
                    picked = schools.filter(pk=school_id).first()
                    chosen = picked.area if picked else None
                if chosen is not None:
                    ancestors = [c for c in chosen.path.strip("/").split("/") if c]
                    schools = schools.filter(
                        Q(area__path__startswith=chosen.path) | Q(area__code__in=ancestors)
                    )
                else:
                    schools = schools.filter(area__level=Area.Level.COUNTY)
                fields["school"].help_text = _("先选择乡镇")
            fields["school"].queryset = schools
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
        return selectors.people_search(queryset, value)

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
        q = Q()
        if data.get("category"):
            q &= Q(category=data["category"])
        if data.get("level"):
            q &= Q(hardship_level=data["level"])
        if data.get("flags"):
            q &= Q(flags__overlap=list(data["flags"]))
        if data.get("school"):
            q &= Q(student_profile__school=data["school"]) | Q(
                left_behind_profile__school=data["school"]
            )
        grade = (data.get("grade") or "").strip()
        if grade:
            q &= Q(student_profile__grade__iexact=grade) | Q(
                left_behind_profile__grade__iexact=grade
            )
        return q if q.children else None

    def filter_queryset(self, queryset):
        if self.form.errors:
            # A value outside the user's choices (another township's id in a
            # hand-edited URL) shows the error and nothing else.
            return queryset.none()
        data = self.form.cleaned_data
        queryset = super().filter_queryset(queryset)
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
        "id_number_last4",
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
