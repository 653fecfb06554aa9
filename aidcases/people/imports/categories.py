"""The roster categories: each registers its own columns and a ``ProfileHandler`` for its
category details (the hub registers 特困人员 here; leaf apps register theirs from ready())."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aidcases import importing, services
from aidcases.importing import Column, Spec
from aidcases.models import AidCase, Area, TekunProfile, User
from aidcases.people.imports.columns import COMMON_COLUMNS, phone_cell

# --- the registry -----------------------------------------------------------------------------


@dataclass
class Context:
    """One validation run: who, where, and whatever a category's handler prefetched."""

    category: str
    township: Area
    user: User
    data: dict[str, Any] = field(default_factory=dict)


class ProfileHandler:
    """A category's details (TekunProfile, StudentProfile, …): which row keys feed which
    profile field, how to read the current ones, and the services that write them.

    ``fields`` maps a row key to the profile field of the same name. Subclasses override
    what needs references resolved (a record the row names by its name).
    """

    model: Any = None
    fields: tuple[str, ...] = ()
    labels: dict[str, str] = {}

    def prepare(self, ctx: Context) -> None:
        """Prefetch reference data for the township (one query, not one per row)."""

    def current(self, case_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Existing profile values, by case id."""
        rows = self.model.objects.filter(case_id__in=case_ids).values("case_id", *self.fields)
        return {row.pop("case_id"): row for row in rows}

    def defaults(self) -> dict[str, Any]:
        return {name: self.model._meta.get_field(name).get_default() for name in self.fields}

    def desired(self, ctx: Context, values: dict[str, Any], current: dict | None) -> dict:
        """What the profile should hold: the row's values, keeping what a blank cell or an
        absent column does not say."""
        base = dict(current) if current is not None else self.defaults()
        for name in self.fields:
            value = values.get(name)
            if value is not None and value != "":
                base[name] = value
        return base

    def changed(self, ctx: Context, current: dict | None, desired: dict) -> list[str]:
        base = current if current is not None else self.defaults()
        return [name for name in self.fields if base.get(name) != desired.get(name)]

    def check(self, ctx: Context, values: dict[str, Any]) -> list[tuple[str, str]]:
        """Extra row issues as (column label, message)."""
        return []

    def notes(self, ctx: Context, *, done: bool) -> list[str]:
        """What the commit creates besides persons, cases and profiles, in words: before
        ("将新建学校：一中") or after (``done``: "新建学校：一中") the commit."""
        return []

    def audit_details(self, ctx: Context) -> dict[str, Any]:
        """What the import's audit row records besides the counts (what before_commit made)."""
        return {}

    def before_commit(self, ctx: Context, user: User) -> None:
        """Create what ``notes`` announced (inside the import's transaction)."""

    def model_values(self, ctx: Context, desired: dict) -> dict:
        """``desired`` as model field values (names resolved to objects)."""
        return dict(desired)

    def save(self, ctx: Context, user: User, case: AidCase, desired: dict) -> None:
        raise NotImplementedError

    def build(self, ctx: Context, case: AidCase, desired: dict) -> Any:
        """An unsaved profile for a brand-new case (the batch path; values already checked
        by the column parsers)."""
        return self.model(case=case, **self.model_values(ctx, desired))


@dataclass(frozen=True)
class Category:
    category: str
    spec: Spec
    handler: ProfileHandler

    @property
    def label(self) -> str:
        return str(AidCase.Category(self.category).label)

    @property
    def template_spec(self) -> Spec:
        """The spec as the template shows it: the ID column marked required (a blank one is
        allowed only with a reason, which the row check enforces)."""
        columns = tuple(
            Column(c.key, c.label, c.synonyms, True, c.parse, c.example, c.help)
            if c.key == "id_number"
            else c
            for c in self.spec.columns
        )
        return Spec(title=self.spec.title, columns=columns)


_REGISTRY: dict[str, Category] = {}


def register(category: str, *, title: str, columns: Iterable[Column], handler: ProfileHandler):
    """Register a category's roster: its spec is the common columns plus ``columns``."""
    spec = Spec(title=title, columns=(*COMMON_COLUMNS, *columns))
    _REGISTRY[category] = Category(category=category, spec=spec, handler=handler)
    return _REGISTRY[category]


def get(category: str) -> Category:
    try:
        return _REGISTRY[category]
    except KeyError:
        raise ValueError(f"no people import registered for {category!r}") from None


def categories() -> list[Category]:
    order = list(AidCase.Category.values)
    return sorted(
        _REGISTRY.values(),
        key=lambda c: order.index(c.category) if c.category in order else len(order),
    )


def read(source: Any, filename: str, category: str, **kwargs: Any) -> importing.Sheet:
    return importing.read(source, filename, get(category).spec, **kwargs)


# --- 特困人员 (the hub's own category) -----------------------------------------------------------


class TekunHandler(ProfileHandler):
    model = TekunProfile
    fields = services.TEKUN_FIELDS
    labels = {
        "support_mode": "供养方式",
        "care_home": "供养机构",
        "health": "健康状况",
        "disability": "残疾情况",
        "lives_alone": "是否独居",
        "responsible_cadre": "帮扶责任人",
        "responsible_cadre_phone": "责任人电话",
    }

    def save(self, ctx: Context, user: User, case: AidCase, desired: dict) -> None:
        services.tekun_profile_save(acting_user=user, case=case, **desired)


register(
    AidCase.Category.TEKUN,
    title="特困人员花名册",
    columns=(
        Column(
            "support_mode",
            "供养方式",
            ("供养形式", "供养类型"),
            parse=importing.choice(
                {
                    "分散供养": TekunProfile.SupportMode.DISPERSED.value,
                    "分散": TekunProfile.SupportMode.DISPERSED.value,
                    "集中供养": TekunProfile.SupportMode.CENTRALISED.value,
                    "集中": TekunProfile.SupportMode.CENTRALISED.value,
                }
            ),
            example="分散供养",
        ),
        Column("care_home", "供养机构", ("集中供养机构", "供养单位"), parse=importing.limited(100)),
        Column(
            "health",
            "健康状况",
            ("身体状况", "健康情况"),
            parse=importing.limited(100),
            example="良好",
        ),
        Column("disability", "残疾情况", ("残疾类别", "残疾类型"), parse=importing.limited(100)),
        Column("lives_alone", "是否独居", ("独居",), parse=importing.boolean, example="是"),
        Column(
            "responsible_cadre",
            "帮扶责任人",
            ("责任人", "包联干部", "帮扶人"),
            parse=importing.limited(50, importing.name),
        ),
        Column(
            "responsible_cadre_phone",
            "责任人电话",
            ("帮扶责任人电话", "责任人联系电话", "帮扶人电话"),
            parse=phone_cell,
        ),
    ),
    handler=TekunHandler(),
)
