from __future__ import annotations

from collections.abc import Callable

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as AuthUserManager
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidcases.jobs import kind_label
from aidcases.verbs import verb_label


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


class UserManager(AuthUserManager):
    """`createsuperuser` (the README's first step on a new server) makes a working
    系统管理员 of the whole county: the admin role, no area (admins see every area), and
    what `services.user_create` gives every account (role group, audit row) through
    `superuser_created`, which services.users plugs in — models import no service."""

    superuser_created: Callable[[User], None] | None = None

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.ADMIN)
        extra_fields.setdefault("area", None)
        user = super().create_superuser(username, email, password, **extra_fields)
        if UserManager.superuser_created is not None:
            UserManager.superuser_created(user)
        return user


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
        return kind_label(self.kind)

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)


class Notification(models.Model):
    """One message in a user's notification centre (a reminder, for now). Only its recipient
    ever sees it (`access.notifications_for`); `link` points at what it is about."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            # the navbar's unread count on every page: an index-only count of a few rows
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return self.link or reverse("notification_list")

    @property
    def kind_label(self) -> str:
        from aidcases.reminders import kind_label as reminder_kind_label

        return reminder_kind_label(self.kind)


class ReminderClaim(models.Model):
    """A reminder that has been sent, by its key ("team-activity:2026Q4:start:team=12").
    Claimed with INSERT … ON CONFLICT DO NOTHING in the transaction that writes the
    notifications: a rerun, a retry or a second worker at the same moment finds the key
    taken and sends nothing again."""

    key = models.CharField(max_length=200, unique=True)
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("已发送提醒")
        verbose_name_plural = _("已发送提醒")

    def __str__(self) -> str:
        return self.key


class Person(models.Model):
    """One real person (帮扶对象), unique by ID number.

    The ID number is stored only encrypted (`id_number_encrypted`) with a keyed
    hash for uniqueness and exact lookup; its tails are searchable only as keyed
    hashes in `search_tokens`. Birth date and gender stay in clear: without any
    tail they leave 500 candidates per person (see `pii.id_candidates`). Never
    deleted: deactivated, or merged into another record (`merged_into`).
    """

    class Gender(models.TextChoices):
        MALE = "male", _("男")
        FEMALE = "female", _("女")

    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=6, choices=Gender.choices)
    id_number_encrypted = models.TextField(_("身份证号码（密文）"), blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    no_id_reason = models.CharField(_("无身份证号码的原因"), max_length=200, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    area = models.ForeignKey(
        Area, verbose_name=_("所在村(社区)"), on_delete=models.PROTECT, related_name="persons"
    )
    address = models.CharField(_("详细地址"), max_length=200, blank=True)
    guardian_name = models.CharField(_("监护人姓名"), max_length=50, blank=True)
    guardian_relationship = models.CharField(_("与本人关系"), max_length=20, blank=True)
    guardian_phone = models.CharField(_("监护人电话"), max_length=20, blank=True)
    photo = models.ForeignKey(
        "Attachment",
        verbose_name=_("照片"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    notes = models.TextField(_("备注"), blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    # Lower-case tokens a search box may hit exactly: every substring of the
    # name, full pinyin and initials (all heteronym readings) and their
    # prefixes, and keyed hashes of ID and phone tails. A GIN index answers `contains [q]` fast at
    # province scale without pg_trgm (which the embedded PostgreSQL lacks).
    search_tokens = ArrayField(models.CharField(max_length=40), default=list, editable=False)
    # Pinyin of the name ("zhao xi chen"): the order a Chinese list is expected
    # in (the database's collation only knows code points).
    name_sort = models.CharField(max_length=120, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("帮扶对象")
        verbose_name_plural = _("帮扶对象")
        ordering = ["area__path", "name_sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["id_number_hash"], name="person_unique_id_number"),
            models.CheckConstraint(
                condition=Q(id_number_hash__isnull=False) | ~Q(no_id_reason=""),
                name="person_id_number_or_reason",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_tokens"], name="person_search_tokens"),
            models.Index(fields=["name", "birth_date"], name="person_name_birth"),
            # The review queue's "same name and birth date" groups, as an
            # index-only scan over live records (200 → 60 ms at 200,000 people).
            models.Index(
                fields=["name", "birth_date"],
                condition=Q(is_active=True, merged_into__isnull=True, birth_date__isnull=False),
                name="person_live_name_birth",
            ),
            models.Index(fields=["guardian_phone"], name="person_guardian_phone"),
            models.Index(fields=["-created_at"], name="person_newest"),
            models.Index(fields=["name_sort", "id"], name="person_name_sort"),
            # COUNT(*) of the active registry as an index-only scan (80 ms → 12 ms
            # at 200,000 people: the table's rows are wide, the index is not).
            models.Index(fields=["id"], condition=Q(is_active=True), name="person_active"),
            # The list's default order within one village: a typed deep page number
            # counts the live registry by area (index-only) and seeks in one area
            # (pagination._sort_groups).
            models.Index(
                fields=["area", "name_sort", "id"],
                condition=Q(is_active=True),
                name="person_live_area_name",
            ),
            # The list's "by birth date" orders, people without a date last.
            models.Index(
                models.F("birth_date").asc(nulls_last=True), "id", name="person_birth_asc"
            ),
            models.Index(
                models.F("birth_date").desc(nulls_last=True),
                models.F("id").desc(),
                name="person_birth_desc",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("person_detail", args=[self.pk])

    @property
    def has_id_number(self) -> bool:
        return bool(self.id_number_hash)

    @property
    def masked_id_number(self) -> str:
        """149901**********2X — what screens and exports show beside a birth
        year (pii's display policy); "" without an ID."""
        from aidcases import pii

        if not self.has_id_number:
            return ""
        try:
            return pii.mask_id_number(pii.decrypt(self.id_number_encrypted))
        except pii.DecryptionError:
            return "*" * pii.ID_LENGTH

    @property
    def birth_year_text(self) -> str:
        """ "2012年生": what lists show instead of the birth date (pii's display policy)."""
        from aidcases import pii

        return pii.birth_year_text(self.birth_date)

    @property
    def age(self) -> int | None:
        if self.birth_date is None:
            return None
        today = timezone.localdate()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class PersonRelation(models.Model):
    """A household member: another registered person, or just a name."""

    class Kind(models.TextChoices):
        FATHER = "father", _("父亲")
        MOTHER = "mother", _("母亲")
        GUARDIAN = "guardian", _("监护人")
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        SIBLING = "sibling", _("兄弟姐妹")
        GRANDPARENT = "grandparent", _("祖父母/外祖父母")
        OTHER = "other", _("其他")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField(_("关系"), max_length=12, choices=Kind.choices)
    related_person = models.ForeignKey(
        Person,
        verbose_name=_("关联的帮扶对象"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="related_as",
    )
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=20, blank=True)
    notes = models.CharField(_("情况说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        constraints = [
            models.CheckConstraint(
                condition=Q(related_person__isnull=False) | ~Q(name=""),
                name="relation_person_or_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.related_person or self.name}"


HARDSHIP_FLAGS = [
    ("registered_poor", _("建档立卡/脱贫户")),
    ("dibao", _("低保")),
    ("orphan", _("孤儿")),
    ("unsupported", _("事实无人抚养")),
    ("disability", _("残疾")),
    ("serious_illness", _("重大疾病")),
    ("disaster", _("受灾")),
    ("single_parent", _("单亲")),
]


def hardship_level_choices() -> list[tuple[str, str]]:
    """认定等级 with the county's own labels: HARDSHIP_LEVEL_LABELS in settings
    (e.g. {"special": "一档"}) renames a level; the stored codes never change."""
    custom = getattr(settings, "HARDSHIP_LEVEL_LABELS", {}) or {}
    return [(code, str(custom.get(code, label))) for code, label in AidCase.Level.choices]


class AidCase(models.Model):
    """A person's case in one programme category. One open case per category."""

    class Category(models.TextChoices):
        STUDENT = "student", _("困难学生")
        TEKUN = "tekun", _("特困人员")
        LEFT_BEHIND = "left_behind", _("留守儿童")

    class Status(models.TextChoices):
        OPEN = "open", _("在册")
        CLOSED = "closed", _("已结案")

    class Level(models.TextChoices):
        SPECIAL = "special", _("特别困难")
        HARD = "hard", _("比较困难")
        GENERAL = "general", _("一般困难")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    hardship_level = models.CharField(
        _("认定等级"), max_length=10, choices=Level.choices, blank=True
    )
    flags = ArrayField(
        models.CharField(max_length=20, choices=HARDSHIP_FLAGS),
        verbose_name=_("困难类型"),
        default=list,
        blank=True,
    )
    opened_on = models.DateField(_("建档日期"), default=timezone.localdate)
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    closed_reason = models.CharField(_("结案原因"), max_length=200, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("帮扶档案")
        verbose_name_plural = _("帮扶档案")
        ordering = ["person_id", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "category"],
                condition=Q(status="open"),
                name="case_one_open_per_category",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | (Q(closed_on__isnull=False) & ~Q(closed_reason="")),
                name="case_closed_has_date_and_reason",
            ),
        ]
        indexes = [
            GinIndex(fields=["flags"], name="case_flags"),
            models.Index(fields=["category", "status"], name="case_category_status"),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} · {self.get_category_display()}"

    def get_absolute_url(self) -> str:
        return reverse("person_detail", args=[self.person_id])

    def get_hardship_level_display(self) -> str:
        return dict(hardship_level_choices()).get(self.hardship_level, self.hardship_level)

    def flag_labels(self) -> list[str]:
        labels = dict(HARDSHIP_FLAGS)
        return [str(labels.get(f, f)) for f in self.flags]


class TekunProfile(models.Model):
    """特困人员 details."""

    class SupportMode(models.TextChoices):
        DISPERSED = "dispersed", _("分散供养")
        CENTRALISED = "centralised", _("集中供养")

    case = models.OneToOneField(AidCase, on_delete=models.CASCADE, related_name="tekun_profile")
    support_mode = models.CharField(
        _("供养方式"), max_length=12, choices=SupportMode.choices, blank=True
    )
    care_home = models.CharField(_("供养机构"), max_length=100, blank=True)
    health = models.CharField(_("健康状况"), max_length=100, blank=True)
    disability = models.CharField(_("残疾情况"), max_length=100, blank=True)
    lives_alone = models.BooleanField(_("独居"), default=False)
    responsible_cadre = models.CharField(_("帮扶责任人"), max_length=50, blank=True)
    responsible_cadre_phone = models.CharField(_("责任人电话"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("特困人员信息")
        verbose_name_plural = _("特困人员信息")

    def __str__(self) -> str:
        return f"{self.case.person.name} 特困信息"


def _attachment_path(instance: Attachment, filename: str) -> str:
    # Random names: the original name (which may hold a person's name) stays in the row.
    import uuid

    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{instance.extension}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        PHOTO = "photo", _("照片")
        DOCUMENT = "document", _("证明材料")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="attachments")
    case = models.ForeignKey(
        AidCase, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("说明"), max_length=100, blank=True)
    file = models.FileField(upload_to=_attachment_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    extension = models.CharField(max_length=10)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.title or self.original_name

    def get_absolute_url(self) -> str:
        return reverse("attachment_download", args=[self.pk])


class DistinctPersons(models.Model):
    """Staff decided that two similar records are different people."""

    person_a = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("确认非重复")
        verbose_name_plural = _("确认非重复")
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="distinct_pair_once"),
            models.CheckConstraint(
                condition=Q(person_a__lt=models.F("person_b")), name="distinct_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_a_id} ≠ {self.person_b_id}"


# Field-level history: Postgres triggers record every insert/update, bulk and
# raw ones included, with the acting user attached as pghistory context.
pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=["password", "last_login"],
    model_name="UserEvent",
)(User)
pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), model_name="AreaEvent")(Area)
pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=["search_tokens", "name_sort", "updated_at"],
    model_name="PersonEvent",
)(Person)
for _model, _name in [
    (PersonRelation, "PersonRelationEvent"),
    (AidCase, "AidCaseEvent"),
    (TekunProfile, "TekunProfileEvent"),
    (Attachment, "AttachmentEvent"),
]:
    pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), model_name=_name
    )(_model)
