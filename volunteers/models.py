"""Volunteer teams, volunteers, two-way pairings, activities, visits and follow-ups.

Scoping (registered in apps.py through `aidcases.access.register_scope`): county-level
roles see everything; a township officer sees what hangs on their township — teams
by the team's area, pairings/visits/follow-ups by the cared-for person's area or the
team's area; a team leader sees only the teams they lead and what hangs on them.
"""

from __future__ import annotations

import uuid

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidcases.models import AidCase, Area, Attachment

# The five cares every 特困 visit looks at (GLOSSARY: 五个关爱), in the order of the
# county's forms. key → label; a Visit has `<key>_note` and `<key>_concern` for each.
CARES: tuple[tuple[str, str], ...] = (
    ("home_safety", _("居家安全")),
    ("mind", _("心理状态")),
    ("living", _("生活环境")),
    ("health", _("身体健康")),
    ("urgent", _("急难愁盼")),
)
CARE_KEYS = tuple(key for key, _label in CARES)

# The mandatory-report checklist of a 留守 visit: ticking any opens an urgent follow-up
# due the same day. field name → label.
MANDATORY_REPORTS: tuple[tuple[str, str], ...] = (
    ("report_alone_or_missing", _("儿童独居或失踪")),
    ("report_guardian_unable", _("监护人无力或拒绝履行监护")),
    ("report_suspected_harm", _("疑似遭受暴力、伤害或虐待")),
)


class Team(models.Model):
    class Kind(models.TextChoices):
        TEKUN_CARE = "tekun_care", _("关爱特困人员青年志愿服务队")
        SWALLOW = "swallow", _("家燕护苗服务队")
        PRACTICE = "practice", _("社会实践小分队")
        OTHER = "other", _("其他")

    name = models.CharField(_("服务队名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    # The area the team belongs to (usually a township): township scoping follows it.
    area = models.ForeignKey(
        Area, verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="teams"
    )
    # Villages, hamlets or groups the team serves (care reaches down to group level).
    areas_covered = models.ManyToManyField(
        Area, verbose_name=_("服务区域"), blank=True, related_name="teams_serving"
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("队长账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teams_led",
    )
    issuing_organisation = models.CharField(
        _("组建单位"), max_length=100, blank=True, help_text=_("证书上署名的单位")
    )
    is_active = models.BooleanField(_("在册"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        ordering = ["area__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="team_unique_name_in_area"),
        ]
        indexes = [models.Index(fields=["leader"], name="team_leader")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("team_detail", args=[self.pk])


class Volunteer(models.Model):
    class Kind(models.TextChoices):
        CADRE = "cadre", _("机关干部")
        TEACHER = "teacher", _("教师")
        VILLAGE_GRADUATE = "village_graduate", _("到村工作大学生")
        RETURNING_STUDENT = "returning_student", _("返乡大学生")
        OTHER = "other", _("其他")

    class Gender(models.TextChoices):
        MALE = "male", _("男")
        FEMALE = "female", _("女")

    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=6, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    kind = models.CharField(_("志愿者类别"), max_length=20, choices=Kind.choices)
    university = models.CharField(_("就读高校"), max_length=100, blank=True)
    major = models.CharField(_("专业"), max_length=100, blank=True)
    # Home area: scoping of volunteers not (yet) in a team follows it.
    area = models.ForeignKey(
        Area, verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="volunteers"
    )
    skills = models.CharField(_("特长"), max_length=200, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )
    # Only when a certificate needs it; stored like a person's (pii.encrypt / pii.id_hash).
    id_number_encrypted = models.TextField(_("身份证号码（密文）"), blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)
    # A volunteer under 18 joins a team only with a guardian's consent on record.
    guardian_name = models.CharField(_("监护人姓名"), max_length=50, blank=True)
    guardian_consent_on = models.DateField(_("监护人同意日期"), null=True, blank=True)
    guardian_consent_how = models.CharField(_("同意方式"), max_length=100, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    is_active = models.BooleanField(_("在册"), default=True)
    name_sort = models.CharField(max_length=120, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        ordering = ["name_sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["id_number_hash"], name="volunteer_unique_id_number"),
        ]
        indexes = [
            models.Index(fields=["area", "name_sort", "id"], name="volunteer_area_name"),
            # the county's list in its order, read from the top (30,000 volunteers)
            models.Index(fields=["name_sort", "id"], name="volunteer_name_sort"),
            models.Index(fields=["name"], name="volunteer_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("volunteer_detail", args=[self.pk])

    def age_on(self, day) -> int | None:
        if self.birth_date is None:
            return None
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class Membership(models.Model):
    class Role(models.TextChoices):
        CAPTAIN = "captain", _("队长")
        LIAISON = "liaison", _("联络员")
        MEMBER = "member", _("队员")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("队内职务"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    started_on = models.DateField(_("加入日期"), default=timezone.localdate)
    ended_on = models.DateField(_("退出日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("队员")
        verbose_name_plural = _("队员")
        ordering = ["team", "role", "volunteer__name_sort"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "volunteer"],
                condition=Q(ended_on__isnull=True),
                name="membership_one_current",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="membership_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.volunteer}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


class Pairing(models.Model):
    """多助一, 双向确定: one open case ↔ one or more volunteers of one team.

    proposed → volunteers confirmed → (person or guardian confirms, recorded by an officer)
    active → ended. Cancelled: a proposal withdrawn before it became active."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("待志愿者确认")
        VOLUNTEER_CONFIRMED = "vol_confirmed", _("待对象确认")
        ACTIVE = "active", _("结对中")
        ENDED = "ended", _("已结束")
        CANCELLED = "cancelled", _("已撤销")

    OPEN_STATES = (State.PROPOSED, State.VOLUNTEER_CONFIRMED, State.ACTIVE)

    case = models.ForeignKey(AidCase, on_delete=models.PROTECT, related_name="pairings")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="pairings")
    volunteers = models.ManyToManyField(Volunteer, through="PairingVolunteer", related_name="+")
    state = models.CharField(
        _("状态"), max_length=14, choices=State.choices, default=State.PROPOSED
    )
    proposed_on = models.DateField(_("提出日期"), default=timezone.localdate)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    volunteers_confirmed_on = models.DateField(_("志愿者确认日期"), null=True, blank=True)
    person_confirmed_on = models.DateField(_("对象确认日期"), null=True, blank=True)
    person_confirmed_by = models.CharField(
        _("确认人"), max_length=50, blank=True, help_text=_("本人或监护人姓名")
    )
    person_confirmed_how = models.CharField(_("确认方式"), max_length=100, blank=True)
    person_confirmation_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_on = models.DateField(_("结对开始日期"), null=True, blank=True)
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("结对帮扶")
        verbose_name_plural = _("结对帮扶")
        ordering = ["-proposed_on", "-id"]
        constraints = [
            # one open pairing of a case with a given team
            models.UniqueConstraint(
                fields=["case", "team"],
                condition=Q(state__in=["proposed", "vol_confirmed", "active"]),
                name="pairing_one_open_per_case_team",
            ),
            # active only when both sides confirmed
            models.CheckConstraint(
                condition=~Q(state__in=["active", "ended"])
                | (
                    Q(volunteers_confirmed_on__isnull=False)
                    & Q(person_confirmed_on__isnull=False)
                    & Q(started_on__isnull=False)
                ),
                name="pairing_active_confirmed_both_ways",
            ),
            models.CheckConstraint(
                condition=~Q(state="ended") | Q(ended_on__isnull=False),
                name="pairing_ended_has_date",
            ),
        ]
        indexes = [models.Index(fields=["state", "proposed_on"], name="pairing_state_proposed")]

    def __str__(self) -> str:
        return f"{self.team} ↔ {self.case.person.name}"

    def get_absolute_url(self) -> str:
        return reverse("pairing_detail", args=[self.pk])


class PairingVolunteer(models.Model):
    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="members")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="pairings")
    is_lead = models.BooleanField(_("主责志愿者"), default=False)
    confirmed_on = models.DateField(_("确认日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("结对志愿者")
        verbose_name_plural = _("结对志愿者")
        constraints = [
            models.UniqueConstraint(fields=["pairing", "volunteer"], name="pairing_volunteer_once"),
            models.UniqueConstraint(
                fields=["pairing"], condition=Q(is_lead=True), name="pairing_one_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pairing_id} · {self.volunteer}"


class Activity(models.Model):
    """One team outing (团队活动); many people may be served."""

    class Kind(models.TextChoices):
        FIVE_CARES = "five_cares", _("五个关爱")
        OWN_CHOICE = "own_choice", _("自选行动")
        SWALLOW = "swallow", _("家燕护苗")
        OTHER = "other", _("其他")

    # An entry made more than this many days after the activity is marked back-filled.
    BACKFILL_DAYS = 30

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="activities")
    date = models.DateField(_("活动日期"))
    starts_at = models.TimeField(_("开始时间"), null=True, blank=True)
    ends_at = models.TimeField(_("结束时间"), null=True, blank=True)
    place = models.CharField(_("活动地点"), max_length=200, blank=True)
    kind = models.CharField(_("活动类型"), max_length=12, choices=Kind.choices)
    participants = models.ManyToManyField(
        Volunteer, verbose_name=_("参与志愿者"), blank=True, related_name="activities"
    )
    content = models.TextField(_("活动内容"))
    people_served = models.PositiveIntegerField(_("服务人数"), null=True, blank=True)
    backfilled = models.BooleanField(_("补录"), default=False)
    backfill_reason = models.CharField(_("补录原因"), max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(_("录入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("团队活动")
        verbose_name_plural = _("团队活动")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(backfilled=False) | ~Q(backfill_reason=""),
                name="activity_backfill_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gte=models.F("starts_at")),
                name="activity_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["team", "-date"], name="activity_team_date")]

    def __str__(self) -> str:
        return f"{self.team} {self.date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("activity_detail", args=[self.pk])


def _activity_photo_path(instance: ActivityPhoto, filename: str) -> str:
    return f"activity_photos/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{instance.extension}"


class ActivityPhoto(models.Model):
    """A team activity's photo. Cleaned by `aidcases.attachments.clean_upload` (content
    sniffed, re-encoded without EXIF/GPS) and served only through a scoped view."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=_activity_photo_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    extension = models.CharField(max_length=10)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("活动照片")
        verbose_name_plural = _("活动照片")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class Visit(models.Model):
    """One visit to one person (走访记录), under one of their cases."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("上门走访")
        REMOTE = "remote", _("电话/视频")

    class LeftBehindKind(models.TextChoices):
        HOME = "home", _("家访")
        TUTORING = "tutoring", _("学业辅导")
        HOLIDAY_TUTORING = "holiday", _("假期辅导")

    class Source(models.TextChoices):
        FORM = "form", _("网页/手机录入")
        IMPORT = "import", _("Excel导入")

    case = models.ForeignKey(AidCase, on_delete=models.PROTECT, related_name="visits")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    visitors = models.ManyToManyField(
        Volunteer, verbose_name=_("走访人员"), blank=True, related_name="visits"
    )
    date = models.DateField(_("走访日期"))
    mode = models.CharField(
        _("走访方式"), max_length=10, choices=Mode.choices, default=Mode.IN_PERSON
    )
    seen_in_person = models.BooleanField(_("见到本人"), default=True)
    not_seen_reason = models.CharField(_("未见到本人的原因"), max_length=200, blank=True)

    # 特困: the five cares, each a short note and a "needs attention" flag, and 自选行动.
    home_safety_note = models.CharField(_("居家安全"), max_length=300, blank=True)
    home_safety_concern = models.BooleanField(_("居家安全需关注"), default=False)
    mind_note = models.CharField(_("心理状态"), max_length=300, blank=True)
    mind_concern = models.BooleanField(_("心理状态需关注"), default=False)
    living_note = models.CharField(_("生活环境"), max_length=300, blank=True)
    living_concern = models.BooleanField(_("生活环境需关注"), default=False)
    health_note = models.CharField(_("身体健康"), max_length=300, blank=True)
    health_concern = models.BooleanField(_("身体健康需关注"), default=False)
    urgent_note = models.CharField(_("急难愁盼"), max_length=300, blank=True)
    urgent_concern = models.BooleanField(_("急难愁盼需关注"), default=False)
    own_action = models.CharField(_("自选行动"), max_length=300, blank=True)

    # 留守: kind, who looks after the child, schooling, health, mood, safety, parents' contact.
    left_behind_kind = models.CharField(
        _("走访类型"), max_length=10, choices=LeftBehindKind.choices, blank=True
    )
    actual_carer = models.CharField(_("实际照料人"), max_length=50, blank=True)
    carer_matches_guardian = models.BooleanField(_("与登记监护人一致"), null=True, blank=True)
    schooling = models.CharField(_("学习情况"), max_length=300, blank=True)
    child_health = models.CharField(_("健康状况"), max_length=300, blank=True)
    child_mood = models.CharField(_("情绪状态"), max_length=300, blank=True)
    child_safety = models.CharField(_("安全情况"), max_length=300, blank=True)
    parents_contacted = models.BooleanField(_("上次走访以来父母有联系"), null=True, blank=True)
    parents_contact_note = models.CharField(_("父母联系情况"), max_length=200, blank=True)
    # the mandatory-report checklist (MANDATORY_REPORTS)
    report_alone_or_missing = models.BooleanField(_("儿童独居或失踪"), default=False)
    report_guardian_unable = models.BooleanField(_("监护人无力或拒绝履行监护"), default=False)
    report_suspected_harm = models.BooleanField(_("疑似遭受暴力、伤害或虐待"), default=False)

    notes = models.TextField(_("备注"), blank=True)
    photos = models.ManyToManyField(
        Attachment, verbose_name=_("照片"), blank=True, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.FORM)
    # The phone form sends a token made when the page opened: a double submit (or a retry
    # after a dropped connection) finds the visit it already made instead of a second one.
    client_token = models.UUIDField(null=True, blank=True, editable=False)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(_("录入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-date", "-id"]
        constraints = [
            # a visit is the same visit by person (case) + date + team: re-imports change nothing
            models.UniqueConstraint(
                fields=["case", "date", "team"],
                condition=Q(team__isnull=False),
                name="visit_once_per_case_date_team",
            ),
            models.UniqueConstraint(
                fields=["case", "date"],
                condition=Q(team__isnull=True),
                name="visit_once_per_case_date_without_team",
            ),
            models.UniqueConstraint(fields=["client_token"], name="visit_client_token_once"),
            models.CheckConstraint(
                condition=Q(seen_in_person=True) | ~Q(not_seen_reason=""),
                name="visit_not_seen_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "-date"], name="visit_case_date"),
            models.Index(fields=["team", "-date"], name="visit_team_date"),
            models.Index(fields=["-date", "-id"], name="visit_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.case.person.name} {self.date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("visit_detail", args=[self.pk])

    def cares(self) -> list[tuple[str, str, str, bool]]:
        """[(key, label, note, concern)] for the five cares."""
        return [
            (key, label, getattr(self, f"{key}_note"), getattr(self, f"{key}_concern"))
            for key, label in CARES
        ]

    @property
    def mandatory_reports(self) -> list[str]:
        return [str(label) for field, label in MANDATORY_REPORTS if getattr(self, field)]


class FollowUp(models.Model):
    """A need found on a visit (a flagged care, 急难愁盼, a mandatory report) turned into a
    task with an owner and a due date."""

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")

    class ReferredTo(models.TextChoices):
        CIVIL_AFFAIRS = "civil_affairs", _("民政")
        CHILD_DIRECTOR = "child_director", _("儿童主任")
        POLICE = "police", _("派出所")
        CLINIC = "clinic", _("卫生院")
        SCHOOL = "school", _("学校")
        OTHER = "other", _("其他")

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        IN_PROGRESS = "in_progress", _("处理中")
        RESOLVED = "resolved", _("已解决")
        CLOSED = "closed", _("已关闭")

    OPEN_STATES = (State.OPEN, State.IN_PROGRESS)

    case = models.ForeignKey(AidCase, on_delete=models.PROTECT, related_name="follow_ups")
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    # which care (CARE_KEYS) or mandatory report (MANDATORY_REPORTS field) raised it; "" = other
    source_key = models.CharField(max_length=30, blank=True)
    need = models.CharField(_("需求/问题"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    due_on = models.DateField(_("办理期限"))
    urgency = models.CharField(
        _("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    is_mandatory_report = models.BooleanField(_("强制报告"), default=False)
    referred_to = models.CharField(
        _("转介部门"), max_length=16, choices=ReferredTo.choices, blank=True
    )
    referred_note = models.CharField(_("转介说明"), max_length=200, blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.OPEN)
    resolution = models.TextField(_("处理结果"), blank=True)
    resolved_on = models.DateField(_("办结日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("跟进事项")
        verbose_name_plural = _("跟进事项")
        ordering = ["due_on", "id"]
        constraints = [
            # one follow-up per visit and source: a re-import or a re-save opens no second one
            models.UniqueConstraint(
                fields=["visit", "source_key"],
                condition=Q(visit__isnull=False),
                name="follow_up_once_per_visit_source",
            ),
            models.CheckConstraint(
                condition=~Q(state="resolved") | ~Q(resolution=""),
                name="follow_up_resolved_says_what",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "state", "due_on"], name="follow_up_owner_state"),
            models.Index(fields=["state", "due_on"], name="follow_up_state_due"),
            # the lists' order (urgent first, then by due date) over open ones only: "mine"
            # and "overdue" read their first page from the index instead of sorting 30,000
            models.Index(
                "owner",
                F("urgency").desc(),
                "due_on",
                "id",
                condition=Q(state__in=["open", "in_progress"]),
                name="follow_up_open_mine",
            ),
            models.Index(
                F("urgency").desc(),
                "due_on",
                "id",
                condition=Q(state__in=["open", "in_progress"]),
                name="follow_up_open_order",
            ),
            # the home pages' open urgent ones (a few hundred of 100,000)
            models.Index(
                F("is_mandatory_report").desc(),
                "due_on",
                "id",
                condition=Q(state__in=["open", "in_progress"], urgency="urgent"),
                name="follow_up_open_urgent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.person.name}: {self.need}"

    def get_absolute_url(self) -> str:
        return reverse("follow_up_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    def is_overdue(self, today=None) -> bool:
        return self.is_open and self.due_on < (today or timezone.localdate())


for _model, _name in [
    (Team, "TeamEvent"),
    (Volunteer, "VolunteerEvent"),
    (Membership, "MembershipEvent"),
    (Pairing, "PairingEvent"),
    (PairingVolunteer, "PairingVolunteerEvent"),
    (Activity, "ActivityEvent"),
    (Visit, "VisitEvent"),
    (FollowUp, "FollowUpEvent"),
]:
    pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), model_name=_name
    )(_model)


class VisitAnchor(models.Model):
    """Derived, kept by triggers: what a case's next visit is counted from — the last visit
    where the person was seen, and the start of its active pairing. Stored so that the due
    list and the overdue count of a whole county read one row per case instead of the
    latest of 800,000 visits (3–4 s at province scale). The intervals stay in settings."""

    # no foreign key in the database: deleting a case deletes its visits, whose trigger would
    # write the anchor again within the same transaction (an orphan row is never read)
    case = models.OneToOneField(
        AidCase,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="visit_anchor",
        db_constraint=False,
    )
    last_seen_on = models.DateField(null=True)
    pairing_started_on = models.DateField(null=True)

    class Meta:
        verbose_name = _("走访起算日")
        verbose_name_plural = _("走访起算日")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.last_seen_on or self.pairing_started_on}"


# One statement recomputes the anchors of the cases a statement touched (a 10,000-row import
# runs it once, not per row). `cases` is a transition table of the changed rows' case ids.
REFRESH_ANCHORS_SQL = """
    INSERT INTO volunteers_visitanchor (case_id, last_seen_on, pairing_started_on)
    SELECT c.case_id,
           (SELECT max(v.date) FROM volunteers_visit v
             WHERE v.case_id = c.case_id AND v.seen_in_person),
           (SELECT max(p.started_on) FROM volunteers_pairing p
             WHERE p.case_id = c.case_id AND p.state = 'active')
    FROM (SELECT DISTINCT case_id FROM {cases}) c
    ON CONFLICT (case_id) DO UPDATE
       SET last_seen_on = EXCLUDED.last_seen_on,
           pairing_started_on = EXCLUDED.pairing_started_on
"""


def refresh_all_visit_anchors(cursor) -> None:
    """Every case's anchor at once (after a load with triggers off; the migration)."""
    cursor.execute(
        REFRESH_ANCHORS_SQL.format(
            cases="(SELECT case_id FROM volunteers_visit UNION SELECT case_id"
            " FROM volunteers_pairing) AS touched"
        )
    )


def _anchor_triggers(table: str) -> list:
    def body(cases: str) -> str:
        return REFRESH_ANCHORS_SQL.format(cases=cases) + ";\nRETURN NULL;"

    def trigger(name: str, operation, referencing, cases: str):
        return pgtrigger.Trigger(
            name=f"{table}_anchor_{name}",
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=operation,
            referencing=referencing,
            func=body(cases),
        )

    return [
        trigger("ins", pgtrigger.Insert, pgtrigger.Referencing(new="new_rows"), "new_rows"),
        trigger(
            "upd",
            pgtrigger.Update,
            pgtrigger.Referencing(old="old_rows", new="new_rows"),
            "(SELECT case_id FROM old_rows UNION SELECT case_id FROM new_rows) AS touched",
        ),
        trigger("del", pgtrigger.Delete, pgtrigger.Referencing(old="old_rows"), "old_rows"),
    ]


pgtrigger.register(*_anchor_triggers("visit"))(Visit)
pgtrigger.register(*_anchor_triggers("pairing"))(Pairing)
