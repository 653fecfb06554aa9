"""The people list's 就读学校 and 年级 filters, registered with the hub's
people-list filter registry (aidcases/people/filters.py) from StudentsConfig.ready().

Both look at the school and grade of a student (困难学生) or a left-behind
child (留守儿童) profile of an open case.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from aidcases import access
from aidcases.models import Area, User
from aidcases.people.filters import CaseFilter, FilterScope, register_case_filter
from aidcases.widgets import FastSelect
from students.models import School


def _in_or_above(area: Area) -> Q:
    """Schools in the area's subtree and those above it (a county high school
    takes children of every township)."""
    ancestor_codes = [c for c in area.path.strip("/").split("/") if c]
    return Q(area__path__startswith=area.path) | Q(area__code__in=ancestor_codes)


def schools_pickable(user: User) -> QuerySet[School]:
    """Active schools a user may pick on the people list."""
    qs = School.objects.filter(is_active=True).select_related("area").order_by("area__path", "name")
    if access.sees_everything(user):
        return qs
    if not (user.is_authenticated and user.is_active and user.area_id):
        return qs.none()
    return qs.filter(_in_or_above(user.area))


def limit_schools(field: forms.ModelChoiceField, scope: FilterScope) -> None:
    schools = schools_pickable(scope.user)
    if access.sees_everything(scope.user):
        # As with villages (a county holds hundreds of schools): the chosen
        # township's schools and the county-level ones, or those of the school
        # already chosen.
        chosen = scope.township
        school_id = scope.data.get("school")
        if chosen is None and school_id and str(school_id).isdigit():
            picked = schools.filter(pk=school_id).first()
            chosen = picked.area if picked else None
        if chosen is not None:
            schools = schools.filter(_in_or_above(chosen))
        else:
            schools = schools.filter(area__level=Area.Level.COUNTY)
        field.help_text = _("先选择乡镇")
    field.queryset = schools


class SchoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: School) -> str:
        return f"{obj.name}（{obj.area.name}）"


class SchoolFilter(django_filters.ModelChoiceFilter):
    field_class = SchoolChoiceField


SCHOOL = CaseFilter(
    name="school",
    filter=SchoolFilter(
        label=_("就读学校"),
        queryset=School.objects.none(),
        empty_label=_("全部"),
        widget=FastSelect,
    ),
    condition=lambda school: (
        Q(student_profile__school=school) | Q(left_behind_profile__school=school)
    ),
    limit=limit_schools,
    order=10,
)
GRADE = CaseFilter(
    name="grade",
    filter=django_filters.CharFilter(label=_("年级")),
    condition=lambda grade: (
        Q(student_profile__grade__iexact=grade) | Q(left_behind_profile__grade__iexact=grade)
    ),
    order=20,
)


def register() -> None:
    register_case_filter(SCHOOL)
    register_case_filter(GRADE)
