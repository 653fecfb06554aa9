from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    """A node of the administrative tree: county → township → village → hamlet/group."""

    class Level(models.TextChoices):
        COUNTY = "county", _("县")
        TOWNSHIP = "township", _("乡(镇)")
        VILLAGE = "village", _("行政村(社区)")
        HAMLET = "hamlet", _("自然村")
        GROUP = "group", _("居民组")

    code = models.CharField(_("区划代码"), max_length=15, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of codes ("/140822/140822100/"): a subtree is one
    # indexed prefix match, the way scoping needs it on every list.
    path = models.CharField(max_length=200, editable=False, db_index=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["path"]
        indexes = [
            models.Index(
                fields=["path"], name="area_path_prefix", opclasses=["varchar_pattern_ops"]
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=True)
                | Q(level__in=["township", "village", "hamlet", "group"]),
                name="area_only_county_is_root",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("area_detail", args=[self.code])

    def full_name(self) -> str:
        """County-to-here names joined, e.g. 青山县城关镇东关村."""
        names = [a.name for a in self.ancestors()] + [self.name]
        return "".join(names)

    def ancestors(self) -> list[Area]:
        codes = [c for c in self.path.strip("/").split("/") if c and c != self.code]
        by_code = {a.code: a for a in Area.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]

    def is_within(self, other: Area) -> bool:
        return self.path.startswith(other.path)


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", _("系统管理员")
        COUNTY_STAFF = "county_staff", _("县级工作人员")
        APPROVER = "approver", _("审批人")
        TOWNSHIP_OFFICER = "township_officer", _("乡镇专干")
        TEAM_LEADER = "team_leader", _("服务队队长")
        AUDITOR = "auditor", _("审计员")

    # Roles whose users work in one area's subtree only.
    AREA_BOUND_ROLES = (Role.TOWNSHIP_OFFICER, Role.TEAM_LEADER)

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    area = models.ForeignKey(
        Area,
        verbose_name=_("所属区域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=["township_officer", "team_leader"]) | Q(area__isnull=False),
                name="user_area_bound_role_has_area",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_county_level(self) -> bool:
        return self.role not in self.AREA_BOUND_ROLES


class AuditEvent(models.Model):
    """Who did, saw or exported what. Written by services inside their transaction.

    Rows are append-only: a database trigger refuses UPDATE and DELETE, so not
    even the application (or someone with its database login) can rewrite history.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    verb = models.CharField(_("操作"), max_length=60, db_index=True)
    object_type = models.ForeignKey(
        ContentType, verbose_name=_("对象类型"), null=True, blank=True, on_delete=models.PROTECT
    )
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    area = models.ForeignKey(
        Area, verbose_name=_("区域"), null=True, blank=True, on_delete=models.PROTECT
    )
    details = models.JSONField(_("详情"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            # The log page reads newest first, optionally by verb or actor.
            models.Index(fields=["-at", "-id"], name="audit_newest"),
            models.Index(fields=["verb", "-at"], name="audit_verb_newest"),
            models.Index(fields=["actor", "-at"], name="audit_actor_newest"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor or '系统'} {self.verb_label}"

    @property
    def verb_label(self) -> str:
        from aidcases.audit import verb_label

        return verb_label(self.verb)


class Job(models.Model):
    """A long piece of work (an export, a big import) run by a Celery worker.

    The row, not Celery, is the source of truth for state and progress; pages
    poll it through access checks. A worker that dies leaves a stale heartbeat,
    and `job_fail_stale` marks such rows failed instead of "running" forever.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("进行中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=40)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        related_name="jobs",
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    message = models.CharField(_("说明"), max_length=200, blank=True)
    error = models.TextField(_("错误"), blank=True)
    result_file = models.FileField(_("结果文件"), upload_to="jobs/%Y/%m/", blank=True)
    result_name = models.CharField(_("文件名"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="job_progress_max_100"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("job_detail", args=[self.pk])

    @property
    def kind_label(self) -> str:
        from aidcases.jobs import kind_label

        return kind_label(self.kind)

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)


# Field-level history: Postgres triggers record every insert/update, bulk and
# raw ones included, with the acting user attached as pghistory context.
pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=["password", "last_login"],
    model_name="UserEvent",
)(User)
pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), model_name="AreaEvent")(Area)
