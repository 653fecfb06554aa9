"""Kinds of import: what an app declares to get the whole upload → check → preview → confirm →
job flow (pages, error workbook, background jobs, management command) without writing it.

A kind is a subclass of ``ImportKind`` registered once (``importing.register``, from the app's
``AppConfig.ready()``)::

    importing.register(VisitImport())

It says what the file holds (``spec``), who may import it (``permission``), how a checked file
becomes a ``Plan`` (``validate``, which writes nothing) and how a plan is written
(``commit``, all or nothing). Everything else has a default that a kind may override.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases.importing.reader import read
from aidcases.importing.spec import Issue, Report, Sheet, Spec

if TYPE_CHECKING:  # pragma: no cover
    from aidcases.models import Area, User

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"
ACTIONS = (NEW, UPDATED, UNCHANGED)
ACTION_LABELS = {
    NEW: gettext_lazy("新增"),
    UPDATED: gettext_lazy("更新"),
    UNCHANGED: gettext_lazy("未变"),
}

# (done, total, message): how validate and commit report progress (a job's progress bar).
Progress = Callable[[int, int | None, str], None]


class UploadGone(Exception):
    """The upload, or the user's right to it (a township taken away), no longer exists:
    the pages answer 404, a job fails with a message saying to upload again."""


@dataclass(kw_only=True)
class PlanRow:
    """One data row as the commit will treat it. A kind subclasses it with what it needs
    (the record it matched, the values it will write) and what its preview shows."""

    line: int
    action: str
    changes: list[str] = field(default_factory=list)

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS[self.action])


@dataclass(kw_only=True)
class Plan:
    """What importing a checked file would do; ``validate`` builds it and writes nothing.

    ``rows`` hold only rows without errors, and ``ok`` is true only when the file has rows and
    no error at all: one bad row and nothing is imported. ``notes`` are what the commit does
    besides the rows ("将新建学校：…"), shown on the preview.
    """

    sheet: Sheet
    rows: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file_name: str = ""

    @property
    def report(self) -> Report:
        return self.sheet.report

    @property
    def ok(self) -> bool:
        return self.report.ok and bool(self.rows)

    @property
    def errors(self) -> list[Issue]:
        errors = self.report.errors
        if not errors and not self.rows:
            return [Issue(None, "", _("文件中没有可以导入的数据行。"))]
        return errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in ACTIONS}

    @property
    def full_report(self) -> Report:
        """The sheet's report, plus the "nothing to import" line when the file had no rows."""
        if self.rows or not self.report.ok:
            return self.report
        return Report([*self.report.issues, *self.errors])

    def summary_line(self) -> str:
        return summary_line(self.counts, self.notes)


@dataclass(kw_only=True)
class Result:
    """What a commit did: counts by action, its notes in the past tense, the rows."""

    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)
    written: bool = True
    rows: list[Any] = field(default_factory=list)

    def summary_line(self) -> str:
        return summary_line(self.counts, self.notes)


def summary_line(counts: Mapping[str, int], notes: list[str] = ()) -> str:
    """ "新增 3，更新 1，未变 0；新建学校：一中" """
    text = _("新增 %(new)d，更新 %(updated)d，未变 %(unchanged)d") % {
        action: counts.get(action, 0) for action in ACTIONS
    }
    if notes:
        text += "；" + "；".join(notes)
    return text


class ImportKind:
    """One kind of file people upload. Set the attributes, implement ``validate`` and
    ``commit``; override the methods below only where the default does not fit.

    ``options`` are the choices made on the upload page besides the file (a roster's category
    and township), kept as JSON with the upload; ``context`` is what they resolve to for a
    user (model instances), checked again at every step, since rights can change between the
    upload and the confirm.
    """

    #: Short name, used in URLs (/imports/<name>/), job kinds and commands: "people".
    name: str = ""
    #: Page title: "花名册导入".
    title: str = ""
    #: The permission needed for every step (upload, preview, confirm, template, jobs).
    permission: str = ""
    #: Files with this many data rows or more are checked and committed by a worker.
    job_rows: int = 2_000
    #: What the upload page says above the form.
    description: str = ""
    #: The form of the upload page: ``importing.UploadForm`` or a subclass adding options.
    upload_form: type | None = None
    #: (column header, PlanRow attribute) shown per row in the preview and the result workbook.
    preview_columns: tuple[tuple[str, str], ...] = ()
    #: Where "取消" and, after the import, "查看" lead: a URL name without arguments.
    back_url_name: str = "home"
    back_label: str = gettext_lazy("返回")
    #: The audit verb written when someone downloads the check workbook (it holds the upload).
    check_download_verb: str = "import.check_download"
    #: Row preview sizes: at most this many rows per action are listed on the page.
    preview_rows: int = 50

    # --- what the file holds --------------------------------------------------------------

    def spec(self, options: Mapping[str, Any]) -> Spec:
        raise NotImplementedError

    def template_spec(self, options: Mapping[str, Any]) -> Spec:
        """The spec as the downloadable template shows it."""
        return self.spec(options)

    def templates(self, user: User) -> list[tuple[str, dict[str, str]]]:
        """The template download buttons: (label, query options) each."""
        return [(str(self.spec({}).title), {})]

    def template_options(self, query: Mapping[str, str]) -> dict[str, Any] | None:
        """The options a template download asks for (from the query string); None when they
        make no sense (the page then asks the user to choose)."""
        return {}

    def read(self, source: IO[bytes] | bytes, file_name: str, options: Mapping[str, Any]) -> Sheet:
        return read(source, file_name, self.spec(options))

    # --- who and where ----------------------------------------------------------------------

    def context(self, user: User, options: Mapping[str, Any]) -> Any:
        """``options`` resolved for ``user``; raise ``UploadGone`` when the user may no longer
        import with them (the pages then answer 404)."""
        return dict(options)

    def heading(self, options: Mapping[str, Any], context: Any) -> str:
        """The preview page's heading: "留守儿童花名册 · 城关镇"."""
        return str(self.spec(options).title)

    def audit_area(self, context: Any) -> Area | None:
        """The area the import's audit rows are filed under (so auditors of it see them)."""
        return None

    def file_title(self, options: Mapping[str, Any]) -> str:
        """The stem of downloaded file names: "留守儿童花名册" → 留守儿童花名册_导入检查.xlsx."""
        return str(self.spec(options).title)

    # --- the work ---------------------------------------------------------------------------

    def validate(
        self,
        sheet: Sheet,
        *,
        acting_user: User,
        context: Any,
        file_name: str = "",
        progress: Progress | None = None,
    ) -> Plan:
        """Check every row; write nothing. Problems go into ``sheet.report``."""
        raise NotImplementedError

    def commit(self, plan: Plan, *, acting_user: User, progress: Progress | None = None) -> Result:
        """Write a plan that is ``ok``, in one transaction; raise ValidationError (Chinese,
        naming the row) when something no longer holds, having written nothing."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<ImportKind {self.name}>"


_KINDS: dict[str, ImportKind] = {}


def add(kind: ImportKind) -> None:
    """Put a kind in the registry (``flow.register`` does this and adds its jobs)."""
    if not (kind.name and kind.title and kind.permission):
        raise ValueError("an import kind needs a name, a title and a permission")
    _KINDS[kind.name] = kind


def get(name: str) -> ImportKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no import kind named {name!r}") from None


def all_kinds() -> list[ImportKind]:
    return list(_KINDS.values())
