"""Money: where it comes from (sources, funds, entries, goods), the programmes that
spend it, and a batch's path from nomination to payment.

Invariants kept by the database, not only by Python:
- a fund's balance (posted income − committed − paid) is never negative: the three
  running totals live on the `Fund` row with a CHECK, and every movement changes them
  with one UPDATE … SET x = x + n (under `select_for_update`) beside an append-only
  `FundMovement` row;
- a one-off programme pays a person once, a monthly one once a month, a per-term one once
  a term: each counting line carries a `once_key` that is UNIQUE;
- one line per person in a batch; amounts are positive.
"""

from __future__ import annotations

from decimal import Decimal

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField

from aidcases.models import AidCase, Attachment, Person

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


class FundingSource(models.Model):
    class Kind(models.TextChoices):
        CHARITY = "charity", _("慈善机构")
        INDIVIDUAL = "individual", _("爱心人士")
        ENTERPRISE = "enterprise", _("爱心企业")
        ALLOCATION = "allocation", _("上级拨款")
        UNION = "union", _("工会（金秋助学）")
        ONLINE = "online", _("网络募捐")
        OTHER = "other", _("其他")

    kind = models.CharField(_("来源类型"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    publish_name = models.BooleanField(
        _("同意公开署名"), default=False, help_text=_("不同意时，公开材料中显示为“爱心人士”")
    )
    notes = models.TextField(_("备注"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("资金来源")
        verbose_name_plural = _("资金来源")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="source_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def public_name(self) -> str:
        return self.name if self.publish_name else str(_("爱心人士"))


class Fund(models.Model):
    """专项资金. balance = income − committed − paid, never below zero (CHECK)."""

    class Restriction(models.TextChoices):
        NONE = "none", _("不限定")
        PROGRAMME = "programme", _("限定资助项目")
        SCHOOL = "school", _("限定学校")
        PERSON = "person", _("限定受助人")

    name = models.CharField(_("资金名称"), max_length=100, unique=True)
    purpose = models.CharField(_("用途"), max_length=200, blank=True)
    restriction = models.CharField(
        _("使用限定"), max_length=10, choices=Restriction.choices, default=Restriction.NONE
    )
    restricted_programme = models.ForeignKey(
        "AidProgramme",
        verbose_name=_("限定项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The school by name: the hub and this app do not reach into the students app's models.
    restricted_school_name = models.CharField(_("限定学校"), max_length=100, blank=True)
    restricted_person = models.ForeignKey(
        Person,
        verbose_name=_("限定受助人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Running totals, changed only by services through FundMovement rows.
    income = models.DecimalField(_("到账收入"), **MONEY, default=ZERO, editable=False)
    committed = models.DecimalField(_("已承诺"), **MONEY, default=ZERO, editable=False)
    paid = models.DecimalField(_("已支付"), **MONEY, default=ZERO, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("专项资金")
        verbose_name_plural = _("专项资金")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(income__gte=0) & Q(committed__gte=0) & Q(paid__gte=0),
                name="fund_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(income__gte=F("committed") + F("paid")),
                name="fund_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(restriction="none")
                | Q(restriction="programme", restricted_programme__isnull=False)
                | (Q(restriction="school") & ~Q(restricted_school_name=""))
                | Q(restriction="person", restricted_person__isnull=False),
                name="fund_restriction_names_its_target",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("fund_detail", args=[self.pk])

    @property
    def balance(self) -> Decimal:
        return self.income - self.committed - self.paid


class FundEntry(models.Model):
    """Money in. A posted entry is never edited or deleted: a correction is a cancelling
    entry that points to it (and the original's state becomes cancelled)."""

    class ReceiptState(models.TextChoices):
        ISSUED = "issued", _("已开具收据")
        ANONYMOUS = "anonymous", _("匿名捐赠")
        NOT_NEEDED = "not_needed", _("无需收据")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        POSTED = "posted", _("已入账")
        CANCELLED = "cancelled", _("已冲销")

    source = models.ForeignKey(
        FundingSource, verbose_name=_("资金来源"), on_delete=models.PROTECT, related_name="entries"
    )
    fund = models.ForeignKey(
        Fund, verbose_name=_("专项资金"), on_delete=models.PROTECT, related_name="entries"
    )
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    received_on = models.DateField(_("到账日期"))
    document_number = models.CharField(_("拨款文号/收据号"), max_length=60, blank=True)
    receipt_state = models.CharField(
        _("收据"), max_length=12, choices=ReceiptState.choices, default=ReceiptState.ISSUED
    )
    state = FSMField(_("状态"), max_length=10, choices=State.choices, default=State.DRAFT)
    # A cancelling entry: posted with a negative effect, pointing at what it cancels.
    cancels = models.OneToOneField(
        "self",
        verbose_name=_("冲销的入账"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cancelled_by",
    )
    notes = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("资金入账")
        verbose_name_plural = _("资金入账")
        ordering = ["-received_on", "-id"]
        triggers = [
            # A posted entry is never edited or deleted; its one change is to "cancelled".
            pgtrigger.Protect(
                name="fund_entry_posted_is_final",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "OLD.state <> 'draft' AND (NEW.state NOT IN ('posted', 'cancelled')"
                    " OR NEW.amount <> OLD.amount OR NEW.fund_id <> OLD.fund_id"
                    " OR NEW.source_id <> OLD.source_id OR NEW.received_on <> OLD.received_on"
                    " OR (OLD.state = 'cancelled' AND NEW.state <> 'cancelled'))"
                ),
            ),
            pgtrigger.Protect(
                name="fund_entry_posted_never_deleted",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition("OLD.state <> 'draft'"),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="fund_entry_amount_positive"),
            models.CheckConstraint(
                condition=Q(cancels__isnull=True) | Q(state="posted"),
                name="fund_entry_cancelling_is_posted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.fund} ¥{self.amount}"


class GoodsDonation(models.Model):
    """物资 in kind (books, clothes, coal): counted in totals as goods, not cash."""

    source = models.ForeignKey(
        FundingSource, verbose_name=_("捐赠方"), on_delete=models.PROTECT, related_name="goods"
    )
    item = models.CharField(_("物资名称"), max_length=100)
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=10)
    unit_value = models.DecimalField(_("估价单价（元）"), **MONEY)
    received_on = models.DateField(_("接收日期"))
    notes = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("捐赠物资")
        verbose_name_plural = _("捐赠物资")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="goods_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_value__gte=0), name="goods_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.quantity}{self.unit}"

    @property
    def estimated_value(self) -> Decimal:
        return (self.quantity * self.unit_value).quantize(Decimal("0.01"))


class GoodsDistribution(models.Model):
    """Goods handed to a person or a school (by name)."""

    donation = models.ForeignKey(
        GoodsDonation, on_delete=models.PROTECT, related_name="distributions"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    school_name = models.CharField(_("受赠学校"), max_length=100, blank=True)
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2)
    given_on = models.DateField(_("发放日期"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("物资发放")
        verbose_name_plural = _("物资发放")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="goods_given_positive"),
            models.CheckConstraint(
                condition=Q(person__isnull=False) | ~Q(school_name=""),
                name="goods_given_to_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.donation} → {self.person or self.school_name}"


class AidProgramme(models.Model):
    class Kind(models.TextChoices):
        STUDENT = "student", _("学生资助")
        TEKUN = "tekun", _("特困慰问")
        LEFT_BEHIND = "left_behind", _("留守关爱")
        MEDICAL = "medical", _("医疗救助")
        OTHER = "other", _("其他")

    class Mode(models.TextChoices):
        ONE_OFF = "one_off", _("一次性资助")
        PER_TERM = "per_term", _("按学期资助")
        MONTHLY = "monthly", _("按月发放")

    name = models.CharField(_("项目名称"), max_length=100, unique=True)
    kind = models.CharField(_("项目类型"), max_length=12, choices=Kind.choices)
    mode = models.CharField(_("发放方式"), max_length=10, choices=Mode.choices)
    months = models.PositiveSmallIntegerField(_("发放月数"), null=True, blank=True)
    # 认定等级 → amount; "" = the amount for anyone without a level.
    standard_amounts = models.JSONField(_("资助标准"), default=dict, blank=True)
    categories = ArrayField(
        models.CharField(max_length=12, choices=AidCase.Category.choices),
        verbose_name=_("适用类别"),
        default=list,
        blank=True,
    )
    levels = ArrayField(
        models.CharField(max_length=10), verbose_name=_("适用等级"), default=list, blank=True
    )
    flags = ArrayField(
        models.CharField(max_length=30), verbose_name=_("需具备的情形"), default=list, blank=True
    )
    school_stages = ArrayField(
        models.CharField(max_length=12), verbose_name=_("适用学段"), default=list, blank=True
    )
    yearly_cap = models.DecimalField(_("每人每年上限（元）"), **MONEY, null=True, blank=True)
    funds = models.ManyToManyField(Fund, verbose_name=_("可用资金"), related_name="programmes")
    approvals_required = models.PositiveSmallIntegerField(_("需审批人数"), default=1)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("资助项目")
        verbose_name_plural = _("资助项目")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(mode="monthly") | Q(months__gte=1), name="programme_monthly_months"
            ),
            models.CheckConstraint(
                condition=Q(approvals_required__gte=1), name="programme_needs_an_approval"
            ),
            models.CheckConstraint(
                condition=Q(yearly_cap__isnull=True) | Q(yearly_cap__gt=0),
                name="programme_cap_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def standard_for(self, level: str) -> Decimal | None:
        value = self.standard_amounts.get(level or "", self.standard_amounts.get(""))
        return None if value in (None, "") else Decimal(str(value))


class ApprovalBand(models.Model):
    """More approvals for bigger batches: from `min_total` up, `approvals` are needed."""

    programme = models.ForeignKey(AidProgramme, on_delete=models.CASCADE, related_name="bands")
    min_total = models.DecimalField(_("批次总额不低于（元）"), **MONEY)
    approvals = models.PositiveSmallIntegerField(_("需审批人数"))

    class Meta:
        verbose_name = _("审批档位")
        verbose_name_plural = _("审批档位")
        ordering = ["programme", "min_total"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "min_total"], name="band_unique_floor"),
            models.CheckConstraint(condition=Q(approvals__gte=1), name="band_needs_an_approval"),
        ]

    def __str__(self) -> str:
        return f"≥¥{self.min_total}: {self.approvals}"


class AidBatch(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        VERIFYING = "verifying", _("审验核查中")
        LOCKED = "locked", _("名单已锁定")
        IN_APPROVAL = "in_approval", _("审批中")
        IN_PUBLICITY = "in_publicity", _("公示中")
        RELEASED = "released", _("已下达发放")
        PAID = "paid", _("已发放")
        RECONCILED = "reconciled", _("已对账")
        CLOSED = "closed", _("已结项")
        ABORTED = "aborted", _("已终止")

    class Term(models.TextChoices):
        NONE = "", _("—")
        AUTUMN = "autumn", _("秋季学期")
        SPRING = "spring", _("春季学期")

    # States from which the list may still change (before publicity).
    EDITABLE = (State.DRAFT, State.VERIFYING)

    programme = models.ForeignKey(
        AidProgramme, verbose_name=_("资助项目"), on_delete=models.PROTECT, related_name="batches"
    )
    name = models.CharField(_("批次名称"), max_length=100)
    school_year = models.PositiveSmallIntegerField(_("学年（起始年）"))
    term = models.CharField(_("学期"), max_length=8, choices=Term.choices, blank=True)
    month = models.DateField(_("发放月份"), null=True, blank=True)
    fund = models.ForeignKey(
        Fund, verbose_name=_("资金来源"), on_delete=models.PROTECT, related_name="batches"
    )
    state = FSMField(_("状态"), max_length=14, choices=State.choices, default=State.DRAFT)
    # A follow-up batch re-pays failed lines of an earlier one.
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    approvals_required = models.PositiveSmallIntegerField(_("需审批人数"), default=1)
    # Approvals count per round: a rejection starts a new round.
    approval_round = models.PositiveSmallIntegerField(default=1)
    publicity_starts = models.DateField(_("公示开始"), null=True, blank=True)
    publicity_ends = models.DateField(_("公示结束"), null=True, blank=True)
    publicity_phone = models.CharField(_("异议受理电话"), max_length=30, blank=True)
    issuer = models.CharField(_("公示单位"), max_length=100, blank=True)
    last_comment = models.CharField(_("最近意见"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("资助批次")
        verbose_name_plural = _("资助批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="batch_unique_name"),
            models.CheckConstraint(
                condition=Q(publicity_ends__isnull=True)
                | Q(publicity_ends__gte=F("publicity_starts")),
                name="batch_publicity_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["state", "-created_at"], name="batch_state_newest")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("batch_detail", args=[self.pk])


class BatchApproval(models.Model):
    batch = models.ForeignKey(AidBatch, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    round = models.PositiveSmallIntegerField()
    approved = models.BooleanField()
    comment = models.CharField(_("意见"), max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("批次审批")
        verbose_name_plural = _("批次审批")
        ordering = ["batch", "at"]
        constraints = [
            # nobody approves (or rejects) the same round twice
            models.UniqueConstraint(
                fields=["batch", "round", "approver"], name="approval_once_per_round"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch} · {self.approver}"


class AidLine(models.Model):
    """One person in one batch: what they are to get and what happened to it."""

    class Verification(models.TextChoices):
        HOME_VISIT = "home", _("入户")
        PHONE = "phone", _("电话")
        DOCUMENTS = "documents", _("材料")

    class State(models.TextChoices):
        PENDING = "pending", _("待发放")
        PAID = "paid", _("已发放")
        FAILED = "failed", _("发放失败")
        REVERSED = "reversed", _("已冲正")
        EXCLUDED = "excluded", _("已剔除")

    class Method(models.TextChoices):
        BANK = "bank", _("银行代发")
        CASH = "cash", _("现金")
        IN_KIND = "in_kind", _("实物")

    batch = models.ForeignKey(AidBatch, on_delete=models.PROTECT, related_name="lines")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="aid_lines")
    case = models.ForeignKey(AidCase, on_delete=models.PROTECT, related_name="aid_lines")
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="lines")
    reason = models.CharField(_("提名理由"), max_length=300, blank=True)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    nominated_at = models.DateTimeField(default=timezone.now)
    verification_method = models.CharField(
        _("核查方式"), max_length=10, choices=Verification.choices, blank=True
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_note = models.CharField(_("核查意见"), max_length=300, blank=True)
    # The 公示 snapshot, taken when the batch is locked: later registry edits do not
    # change a frozen list.
    snap_name = models.CharField(_("姓名"), max_length=50, blank=True)
    snap_village = models.CharField(_("村(社区)"), max_length=100, blank=True)
    snap_school = models.CharField(_("学校"), max_length=100, blank=True)
    snap_grade = models.CharField(_("年级"), max_length=20, blank=True)
    snap_level = models.CharField(_("档次"), max_length=20, blank=True)
    snap_birth_date = models.DateField(null=True, blank=True)  # to mask minors' names
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    # programme:person[:period] while the line counts toward "paid once"; NULL when it
    # does not (excluded, failed, reversed): UNIQUE keeps a person from being paid twice.
    once_key = models.CharField(max_length=80, null=True, blank=True, editable=False)
    method = models.CharField(_("发放方式"), max_length=10, choices=Method.choices, blank=True)
    paid_on = models.DateField(_("发放日期"), null=True, blank=True)
    voucher = models.CharField(_("凭证号/银行流水号"), max_length=60, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    receipt = models.ForeignKey(
        Attachment,
        verbose_name=_("签收单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    retry_of = models.OneToOneField(
        "self",
        verbose_name=_("补发原失败记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="retried_by",
    )

    class Meta:
        verbose_name = _("资助名单行")
        verbose_name_plural = _("资助名单行")
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "person"], name="line_once_per_batch"),
            models.UniqueConstraint(fields=["once_key"], name="line_paid_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="line_amount_positive"),
            models.CheckConstraint(
                condition=~Q(state="paid") | (Q(paid_on__isnull=False) & ~Q(method="")),
                name="line_paid_has_date_and_method",
            ),
            models.CheckConstraint(
                condition=~Q(state="failed") | ~Q(failure_reason=""),
                name="line_failed_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "batch"], name="line_person"),
            # amount included: the batch list's and page's counts and totals per state
            # are read from the index alone
            models.Index(fields=["batch", "state"], name="line_batch_state", include=["amount"]),
            # The batch page reads a batch's lines in id order from a key (after=<id>):
            # without it PostgreSQL walked the primary key from that id, filtering out
            # every other batch's lines (0.4 s on the last page of a 5,000-line batch).
            models.Index(fields=["batch", "id"], name="line_batch_order"),
        ]
        triggers = [
            # A paid line is never edited or deleted: the one change left is its reversal.
            pgtrigger.Protect(
                name="line_paid_is_final",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "OLD.state = 'paid' AND (NEW.state <> 'reversed' OR NEW.amount <> OLD.amount"
                    " OR NEW.person_id <> OLD.person_id OR NEW.fund_id <> OLD.fund_id"
                    " OR NEW.paid_on IS DISTINCT FROM OLD.paid_on OR NEW.voucher <> OLD.voucher)"
                ),
            ),
            pgtrigger.Protect(
                name="line_paid_never_deleted",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition("OLD.state IN ('paid', 'reversed')"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch} · {self.snap_name or self.person_id}"


class Reversal(models.Model):
    """冲正: the only correction of a paid line. The money goes back to the fund."""

    line = models.OneToOneField(AidLine, on_delete=models.PROTECT, related_name="reversal")
    amount = models.DecimalField(_("冲正金额（元）"), **MONEY)
    reason = models.CharField(_("冲正原因"), max_length=300)
    voucher = models.CharField(_("冲正凭证号"), max_length=60, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("冲正")
        verbose_name_plural = _("冲正")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="reversal_amount_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="reversal_has_reason"),
        ]

    def __str__(self) -> str:
        return f"冲正 {self.line}"


class FundMovement(models.Model):
    """The fund's ledger: every change of its totals, append-only (never updated or
    deleted — a trigger refuses both)."""

    class Kind(models.TextChoices):
        INCOME = "income", _("入账")
        INCOME_CANCELLED = "income_cancelled", _("入账冲销")
        COMMIT = "commit", _("下达承诺")
        UNCOMMIT = "uncommit", _("承诺释放")
        PAY = "pay", _("支付")
        REVERSAL = "reversal", _("冲正退回")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("类型"), max_length=18, choices=Kind.choices)
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    entry = models.ForeignKey(
        FundEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    batch = models.ForeignKey(
        AidBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    line = models.ForeignKey(
        AidLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # the fund's balance right after this movement
    balance_after = models.DecimalField(_("余额（元）"), **MONEY)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("资金流水")
        verbose_name_plural = _("资金流水")
        ordering = ["fund", "-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="movement_amount_positive"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="movement_balance_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["fund", "-at", "-id"], name="movement_fund_newest")]
        triggers = [
            pgtrigger.Protect(
                name="movement_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.fund} {self.get_kind_display()} ¥{self.amount}"


class SubmitKey(models.Model):
    """A form's one-time token, claimed by the money write it submitted, in the write's
    own transaction: the same token again (a double click, a resent form) gets back what
    the first made and writes nothing. A write that fails rolls its claim back with it,
    so the form may be sent again."""

    key = models.CharField(max_length=80, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=40)
    # what the first submission made (an entry, a batch, a line, a reversal)
    object_id = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("表单提交记录")
        verbose_name_plural = _("表单提交记录")

    def __str__(self) -> str:
        return f"{self.action} {self.key}"


for _model, _name in [
    (FundingSource, "FundingSourceEvent"),
    (Fund, "FundEvent"),
    (FundEntry, "FundEntryEvent"),
    (AidProgramme, "AidProgrammeEvent"),
    (AidBatch, "AidBatchEvent"),
    (AidLine, "AidLineEvent"),
]:
    pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), model_name=_name
    )(_model)
