from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aidcases.models import AidCase, Area


class School(models.Model):
    class Stage(models.TextChoices):
        PRIMARY = "primary", _("小学")
        JUNIOR = "junior", _("初中")
        SENIOR = "senior", _("高中")
        VOCATIONAL = "vocational", _("中职")
        UNIVERSITY = "university", _("大学")

    name = models.CharField(_("学校名称"), max_length=100)
    area = models.ForeignKey(
        Area, verbose_name=_("所在乡(镇)"), on_delete=models.PROTECT, related_name="schools"
    )
    stage = models.CharField(_("学段"), max_length=12, choices=Stage.choices, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("学校")
        verbose_name_plural = _("学校")
        ordering = ["area__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="school_unique_name_in_area"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("school_roster", args=[self.pk])


class StudentProfile(models.Model):
    """困难学生 details of a student case."""

    case = models.OneToOneField(AidCase, on_delete=models.CASCADE, related_name="student_profile")
    school = models.ForeignKey(
        School,
        verbose_name=_("就读学校"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="students",
    )
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    class_name = models.CharField(_("班级"), max_length=20, blank=True)
    enrolment_year = models.PositiveSmallIntegerField(_("入学年份"), null=True, blank=True)
    student_number = models.CharField(_("学籍号"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("学生信息")
        verbose_name_plural = _("学生信息")
        indexes = [models.Index(fields=["school", "grade"], name="student_school_grade")]

    def __str__(self) -> str:
        return f"{self.case.person.name} 学生信息"


class LeftBehindProfile(models.Model):
    """留守儿童 details: parents away, guardian, teacher, the 三知 notes."""

    case = models.OneToOneField(
        AidCase, on_delete=models.CASCADE, related_name="left_behind_profile"
    )
    school = models.ForeignKey(
        School,
        verbose_name=_("就读学校"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="left_behind_children",
    )
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    father_work_place = models.CharField(_("父亲务工地"), max_length=100, blank=True)
    mother_work_place = models.CharField(_("母亲务工地"), max_length=100, blank=True)
    guardian_age = models.PositiveSmallIntegerField(_("监护人年龄"), null=True, blank=True)
    guardian_health = models.CharField(_("监护人健康状况"), max_length=50, blank=True)
    teacher_name = models.CharField(_("班主任"), max_length=50, blank=True)
    teacher_phone = models.CharField(_("班主任电话"), max_length=20, blank=True)
    parent_contact_frequency = models.CharField(_("父母联系频率"), max_length=50, blank=True)
    knows_person = models.TextField(_("个人情况（三知）"), blank=True)
    knows_family = models.TextField(_("家庭情况（三知）"), blank=True)
    knows_study = models.TextField(_("学习情况（三知）"), blank=True)

    class Meta:
        verbose_name = _("留守儿童信息")
        verbose_name_plural = _("留守儿童信息")
        constraints = [
            models.CheckConstraint(
                condition=Q(guardian_age__isnull=True) | Q(guardian_age__lte=120),
                name="left_behind_guardian_age_sane",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case.person.name} 留守信息"


for _model, _name in [
    (School, "SchoolEvent"),
    (StudentProfile, "StudentProfileEvent"),
    (LeftBehindProfile, "LeftBehindProfileEvent"),
]:
    pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), model_name=_name
    )(_model)
