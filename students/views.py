from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases import selectors as hub_selectors
from aidcases import services
from aidcases.models import AidCase
from aidcases.services import PersonData
from aidcases.viewutils import add_service_errors, querystring_without_page, require_perm
from students import selectors
from students import services as student_services
from students.forms import (
    CONTACT_FREQUENCY_SUGGESTIONS,
    GRADE_SUGGESTIONS,
    LeftBehindProfileForm,
    SchoolFilterForm,
    SchoolForm,
    StudentProfileForm,
)
from students.models import LeftBehindProfile, School, StudentProfile

PAGE_SIZE = 50
ROSTER_PAGE_SIZE = 100


# --- schools ----------------------------------------------------------------


@login_required
def school_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.view_person")
    townships = hub_selectors.townships_for(user=request.user)
    form = SchoolFilterForm(request.GET or None, townships=townships)
    filters = form.cleaned_data if form.is_valid() else {}
    schools = selectors.school_list(
        user=request.user,
        q=filters.get("q", ""),
        township=filters.get("township"),
        stage=filters.get("stage", ""),
    )
    page = Paginator(schools, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.with_aided_counts(page.object_list, user=request.user)
    return render(
        request,
        "students/school_list.html",
        {
            "form": form,
            "page": page,
            "qs": querystring_without_page(request),
            "can_edit": request.user.has_perm("aidcases.change_person"),
            "township_options": list(townships),
        },
    )


@login_required
def school_roster(request: HttpRequest, pk: int) -> HttpResponse:
    """一校一清册: every aided child of the school, printable on A4."""
    require_perm(request, "aidcases.view_person")
    school = selectors.school_for_user_or_404(user=request.user, pk=pk)
    category = request.GET.get("category", "")
    if category not in ("", AidCase.Category.STUDENT, AidCase.Category.LEFT_BEHIND):
        category = ""
    sort = "name" if request.GET.get("sort") == "name" else "grade"
    rows = selectors.school_roster(user=request.user, school=school, category=category, sort=sort)
    # On screen a page at a time (a large school has hundreds of children);
    # ?print=1 is the whole ledger, printed as it opens.
    printing = request.GET.get("print") == "1"
    page = None if printing else Paginator(rows, ROSTER_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = rows if page is None else page.object_list
    return render(
        request,
        "students/school_roster.html",
        {
            "school": school,
            "rows": rows,
            "shown": shown,
            "page": page,
            "printing": printing,
            "qs": querystring_without_page(request),
            "groups": selectors.roster_groups(shown, whole=rows) if sort == "grade" else None,
            "category": category,
            "sort": sort,
            "categories": [
                ("", _("全部")),
                (AidCase.Category.STUDENT, AidCase.Category.STUDENT.label),
                (AidCase.Category.LEFT_BEHIND, AidCase.Category.LEFT_BEHIND.label),
            ],
            "today": timezone.localdate(),
            "can_edit": request.user.has_perm("aidcases.change_person"),
        },
    )


@login_required
def school_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.change_person")
    townships = hub_selectors.townships_for(user=request.user)
    initial = {}
    if request.user.area and request.user.area.level == "township":
        initial["township"] = request.user.area
    form = SchoolForm(request.POST or None, townships=townships, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            school = student_services.school_create(
                acting_user=request.user,
                name=data["name"],
                township=data["township"],
                stage=data["stage"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已新增学校“%(name)s”。") % {"name": school.name})
            return redirect("school_list")
    return render(request, "students/school_form.html", {"form": form, "creating": True})


@login_required
def school_edit(request: HttpRequest, pk: int) -> HttpResponse:
    school = selectors.school_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "aidcases.change_person")
    townships = hub_selectors.townships_for(user=request.user)
    initial = {
        "name": school.name,
        "township": school.area,
        "stage": school.stage,
        "is_active": school.is_active,
    }
    form = SchoolForm(request.POST or None, townships=townships, initial=initial, editing=school)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = student_services.school_update(
                acting_user=request.user,
                school=school,
                name=data["name"],
                township=data["township"],
                stage=data["stage"],
                is_active=data["is_active"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("已保存学校“%(name)s”。") % {"name": data["name"]})
            else:
                messages.info(request, _("没有修改。"))
            return redirect("school_roster", pk=school.pk)
    return render(
        request, "students/school_form.html", {"form": form, "creating": False, "school": school}
    )


# --- student / left-behind profiles -----------------------------------------


def _resolve_school(request: HttpRequest, form, township) -> School | None:
    """The chosen school, or the new one named in the form (found or created)."""
    name = form.cleaned_data.get("new_school_name")
    if not name:
        return form.cleaned_data.get("school")
    if township is None:
        raise ValidationError({"new_school_name": _("找不到该对象所在的乡(镇)，无法新增学校。")})
    school, _created = student_services.school_get_or_create(
        acting_user=request.user, name=name, township=township
    )
    return school


def _profile_page(request, *, case, form, title, template_extra=None):
    context = {
        "case": case,
        "person": case.person,
        "form": form,
        "title": title,
        "grade_suggestions": GRADE_SUGGESTIONS,
        "contact_suggestions": CONTACT_FREQUENCY_SUGGESTIONS,
    }
    context.update(template_extra or {})
    return render(request, "students/profile_form.html", context)


def _after_save(request: HttpRequest, case: AidCase, changed: list[str]):
    if changed:
        messages.success(request, _("已保存%(name)s的档案详情。") % {"name": case.person.name})
    else:
        messages.info(request, _("没有修改。"))
    return redirect("person_detail", pk=case.person_id)


@login_required
def student_profile_edit(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = hub_selectors.case_for_user_or_404(
        user=request.user, pk=case_pk, category=AidCase.Category.STUDENT
    )
    require_perm(request, "aidcases.change_person")
    profile = StudentProfile.objects.filter(case=case).select_related("school").first()
    township = selectors.township_of(case.person.area)
    initial = {}
    if profile is not None:
        initial = {
            "school": profile.school,
            "grade": profile.grade,
            "class_name": profile.class_name,
            "enrolment_year": profile.enrolment_year,
            "student_number": profile.student_number,
        }
    form = StudentProfileForm(
        request.POST or None,
        initial=initial,
        schools=selectors.schools_in_township(township=township),
        current_school=profile.school if profile else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                school = _resolve_school(request, form, township)
                _profile, changed = student_services.student_profile_save(
                    acting_user=request.user,
                    case=case,
                    school=school,
                    grade=data["grade"].strip(),
                    class_name=data["class_name"].strip(),
                    enrolment_year=data["enrolment_year"],
                    student_number=data["student_number"],
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _after_save(request, case, changed)
    return _profile_page(request, case=case, form=form, title=_("学生信息"))


@login_required
def left_behind_profile_edit(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = hub_selectors.case_for_user_or_404(
        user=request.user, pk=case_pk, category=AidCase.Category.LEFT_BEHIND
    )
    require_perm(request, "aidcases.change_person")
    person = case.person
    profile = LeftBehindProfile.objects.filter(case=case).select_related("school").first()
    township = selectors.township_of(person.area)
    initial = {
        "guardian_name": person.guardian_name,
        "guardian_relationship": person.guardian_relationship,
    }
    if profile is not None:
        initial.update(
            {
                name: getattr(profile, name)
                for name in student_services.LEFT_BEHIND_FIELDS
                if name != "teacher_phone"
            }
        )
    form = LeftBehindProfileForm(
        request.POST or None,
        initial=initial,
        person=person,
        teacher_phone=profile.teacher_phone if profile else "",
        schools=selectors.schools_in_township(township=township),
        current_school=profile.school if profile else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                school = _resolve_school(request, form, township)
                changed = []
                if form.guardian_changed():
                    changed += services.person_update(
                        acting_user=request.user,
                        person=person,
                        data=_person_data_with_guardian(person, data),
                    )
                _profile, profile_changed = student_services.left_behind_profile_save(
                    acting_user=request.user,
                    case=case,
                    school=school,
                    **{
                        name: (data[name].strip() if isinstance(data[name], str) else data[name])
                        for name in student_services.LEFT_BEHIND_FIELDS
                        if name != "school"
                    },
                )
                changed += profile_changed
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _after_save(request, case, changed)
    return _profile_page(request, case=case, form=form, title=_("留守儿童信息"))


def _person_data_with_guardian(person, data) -> PersonData:
    """The person as stored, with the guardian fields from the form (the ID
    number is left out: person_update keeps the stored one)."""
    return PersonData(
        name=person.name,
        area=person.area,
        gender=person.gender,
        no_id_reason=person.no_id_reason,
        birth_date=person.birth_date,
        phone=person.phone,
        address=person.address,
        guardian_name=data["guardian_name"],
        guardian_relationship=data["guardian_relationship"].strip(),
        guardian_phone=data["guardian_phone"],
        notes=person.notes,
    )
