"""Every Excel/CSV import: one engine that reads the files people really keep, and one
upload → check → preview → confirm → job flow that every kind of import goes through.

The package, by concern:

- ``cells``     the normalisers a column uses (text, name, gender, dates, money, choice …)
- ``spec``      what an import declares (``Column``, ``Spec``) and what reading finds
                (``Row``, ``Sheet``, ``Issue``, ``Report``)
- ``reader``    ``read()``: header under title rows or across two rows, synonyms, merged cells,
                blank/total/sign-off lines, limits; never raises for a bad file
- ``workbooks`` the error workbook (the upload with 错误说明), the template, CLI text
- ``villages``  finding a township's village by the names people write
- ``kinds``     ``ImportKind`` (what an app declares), ``Plan``/``PlanRow``/``Result``, the registry
- ``uploads``   staged uploads, under the uploading user's own folder, by random token
- ``flow``      check, preview data, confirm, and the two job kinds of every import kind
- ``forms``, ``views``, ``urls``  the pages every kind gets (/imports/<kind>/…)
- ``commands``  ``ImportCommand``, the base of every import's management command

Reading a file with the engine alone::

    sheet = importing.read(upload, upload.name, SPEC)
    sheet.report.extend(importing.find_duplicates(sheet.rows, "id_number", label="身份证号码"))
    if not sheet.report.ok:
        importing.write_error_report(buffer, sheet)

Adding a new kind of import (a visit record, a team roster, a bank file) — five steps, all in
the leaf app; no view, URL, template, job or parser code of its own:

1. **Columns.** Declare a ``Spec``: a title and ``Column(key, label, synonyms, required,
   parse=…, example=…, help=…)`` per column, with the parsers in ``cells`` (or your own
   callable raising ``CellError``).
2. **The kind.** Subclass ``ImportKind``: ``name`` (the URL slug, e.g. "visits"), ``title``,
   ``permission``, ``spec(options)``, and ``preview_columns`` (header, PlanRow attribute) for
   the preview and the result workbook. If the upload page asks for more than the file (a
   township, a team), subclass ``UploadForm`` with those fields and ``options()``, set it as
   ``upload_form``, and resolve the options for the user in ``context(user, options)`` (raise
   ``UploadGone`` when they may no longer use them).
3. **validate(sheet, *, acting_user, context, file_name, progress) → Plan.** Check every row
   against the database (scope through ``aidcases.access``), add problems to ``sheet.report``
   with their row and column, and return a ``Plan`` (subclass it and ``PlanRow`` for what you
   need) whose rows say new / updated / unchanged and what changes. Write nothing.
4. **commit(plan, *, acting_user, progress) → Result.** In one transaction, through your
   services (audited), write what the plan says; raise ``ValidationError`` naming the row when
   something no longer holds. Rows that are unchanged are not written, so re-importing the same
   file changes nothing.
5. **Register and command.** ``importing.register(MyImport())`` in your ``AppConfig.ready()``,
   link to ``{% url 'import_start' 'visits' %}``, and for the command line write
   ``management/commands/import_visits.py`` as ``class Command(ImportCommand): kind_name =
   "visits"`` (plus ``add_options``/``options`` for the choices). Tests: a real-shaped file
   through the pages and the command; the URL walk covers /imports/<kind>/ already.

Messages are gettext strings, so reading a file that has problems needs Django settings.
"""

from aidcases.importing.cells import (
    FEMALE,
    MALE,
    CellError,
    PartialDate,
    age,
    boolean,
    cell_text,
    choice,
    decimal,
    full_date,
    gender,
    integer,
    limited,
    money,
    name,
    partial_date,
    text,
    year,
)
from aidcases.importing.flow import register
from aidcases.importing.kinds import (
    ACTION_LABELS,
    NEW,
    UNCHANGED,
    UPDATED,
    ImportKind,
    Plan,
    PlanRow,
    Progress,
    Result,
    UploadGone,
    all_kinds,
    get,
    summary_line,
)
from aidcases.importing.reader import DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, find_duplicates, read
from aidcases.importing.spec import Column, Issue, Report, Row, Sheet, Spec, normalize_header
from aidcases.importing.workbooks import format_report_text, write_error_report, write_template

__all__ = [
    "ACTION_LABELS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "FEMALE",
    "MALE",
    "NEW",
    "UNCHANGED",
    "UPDATED",
    "CellError",
    "Column",
    "ImportKind",
    "Issue",
    "PartialDate",
    "Plan",
    "PlanRow",
    "Progress",
    "Report",
    "Result",
    "Row",
    "Sheet",
    "Spec",
    "UploadGone",
    "age",
    "all_kinds",
    "boolean",
    "cell_text",
    "choice",
    "decimal",
    "find_duplicates",
    "format_report_text",
    "full_date",
    "gender",
    "get",
    "integer",
    "limited",
    "money",
    "name",
    "normalize_header",
    "partial_date",
    "read",
    "register",
    "summary_line",
    "text",
    "write_error_report",
    "write_template",
    "year",
]
