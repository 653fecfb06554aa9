"""The hub's own sections of the 一人一档 archive page.

Registered on import (AidcasesConfig.ready() imports this module). Leaf apps
register theirs the same way; `order` leaves room between ours: 10 identity,
20 cases, 30–70 for aid / visits / follow-ups, 80 attachments, 90 history,
95 who viewed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pghistory.models
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import reverse

from aidcases import access, archive, attachments, pii
from aidcases.archive.forms import AttachmentForm
from aidcases.audit import verb_label
from aidcases.models import (
    HARDSHIP_FLAGS,
    AidCase,
    AidCaseEvent,
    Area,
    Attachment,
    AttachmentEvent,
    AuditEvent,
    Person,
    PersonEvent,
    PersonRelation,
    PersonRelationEvent,
    TekunProfile,
    TekunProfileEvent,
    User,
)

HISTORY_LIMIT = 100
VIEWERS_LIMIT = 50
VIEW_VERBS = ("person.view", "person.reveal", "person.export")
REVEAL_FIELD_LABELS = {
    "id_number": "身份证号码",
    "phone": "联系电话",
    "guardian_phone": "监护人电话",
}


def can_edit(user: User) -> bool:
    return user.has_perm("aidcases.change_person")


def can_see_trail(user: User) -> bool:
    # Who changed and who looked at a record: for those who keep records and for auditors.
    return can_edit(user) or user.has_perm("aidcases.view_audit")


# --- 身份与家庭 -----------------------------------------------------------------


def identity_context(person: Person, user: User) -> dict:
    # Family order (father, mother, guardian …), not alphabetical codes.
    rank = {kind: i for i, kind in enumerate(PersonRelation.Kind.values)}
    relations = sorted(
        PersonRelation.objects.filter(person=person).select_related("related_person"),
        key=lambda r: (rank.get(r.kind, len(rank)), r.pk),
    )
    linked_ids = {r.related_person_id for r in relations if r.related_person_id}
    visible = set(
        access.scope(Person.objects.filter(pk__in=linked_ids), user).values_list("pk", flat=True)
        if linked_ids
        else []
    )
    members = [
        {
            "kind": r.get_kind_display(),
            "name": r.related_person.name if r.related_person else r.name,
            "url": r.related_person.get_absolute_url() if r.related_person_id in visible else None,
            "phone": pii.mask_phone(r.phone) if r.phone else "",
            "notes": r.notes,
        }
        for r in relations
    ]
    return {"members": members}


# --- 帮扶档案 -----------------------------------------------------------------


def cases_context(person: Person, user: User) -> dict:
    cases = list(
        AidCase.objects.filter(person=person)
        .select_related("tekun_profile")
        .order_by("status", "-opened_on", "-id")
    )
    editable = can_edit(user) and person.is_active
    rows = []
    for case in cases:
        profile = getattr(case, "tekun_profile", None) if case.category == "tekun" else None
        is_open = case.status == AidCase.Status.OPEN
        rows.append(
            {
                "case": case,
                "flags": case.flag_labels(),
                "profile": profile,
                "cadre_phone": pii.mask_phone(profile.responsible_cadre_phone)
                if profile and profile.responsible_cadre_phone
                else "",
                "edit_url": reverse("case_edit", args=[case.pk]) if editable and is_open else None,
                "close_url": reverse("case_close", args=[case.pk])
                if editable and is_open
                else None,
            }
        )
    return {
        "rows": rows,
        "create_url": reverse("case_create", args=[person.pk]) if editable else None,
    }


# --- 附件 ---------------------------------------------------------------------


def attachments_context(person: Person, user: User) -> dict:
    items = list(
        Attachment.objects.filter(person=person, is_active=True)
        .select_related("uploaded_by", "case")
        .order_by("-uploaded_at", "-id")
    )
    # A deactivated record may still receive papers (e.g. a closing certificate);
    # a merged one may not: they belong on the surviving record.
    editable = can_edit(user) and not person.merged_into_id
    form = AttachmentForm(person=person) if editable else None
    return {
        "files": [
            {
                "attachment": a,
                "is_image": a.content_type in attachments.IMAGE_TYPES,
                "is_photo": a.pk == person.photo_id,
                "size": attachments.human_size(a.size),
            }
            for a in items
        ],
        "editable": editable,
        "form": form,
        "max_size": attachments.human_size(attachments.max_bytes()),
    }


# --- 变更记录 -----------------------------------------------------------------

SECRET_COLUMNS = {"id_number_encrypted", "id_number_hash", "id_number_last4"}
PHONE_COLUMNS = {"phone", "guardian_phone", "responsible_cadre_phone"}
# Bookkeeping columns nobody reading an archive needs.
SKIPPED_COLUMNS = {
    "id",
    "created_by_id",
    "created_at",
    "uploaded_by_id",
    "uploaded_at",
    "file",
    "sha256",
    "size",
    "content_type",
    "extension",
    "case_id",
}
MODEL_LABELS = {
    "aidcases.Person": "基本信息",
    "aidcases.PersonRelation": "家庭成员",
    "aidcases.AidCase": "帮扶档案",
    "aidcases.TekunProfile": "特困人员信息",
    "aidcases.Attachment": "附件",
}
TRACKED = {
    "aidcases.Person": Person,
    "aidcases.PersonRelation": PersonRelation,
    "aidcases.AidCase": AidCase,
    "aidcases.TekunProfile": TekunProfile,
    "aidcases.Attachment": Attachment,
}


@dataclass
class HistoryRow:
    at: datetime
    actor: User | None
    what: str
    action: str
    changes: list[str] = field(default_factory=list)


def _history_events(person: Person) -> list:
    events = pghistory.models.MiddlewareEvents.objects
    own = list(
        events.references(person)
        .across(PersonEvent, PersonRelationEvent, AidCaseEvent, AttachmentEvent)
        # `references` also finds rows that merely point here (another person's
        # household member, a record merged into this one): keep this person's own.
        .filter(
            Q(pgh_obj_model="aidcases.Person", pgh_obj_id=str(person.pk))
            | Q(
                pgh_obj_model__in=[
                    "aidcases.PersonRelation",
                    "aidcases.AidCase",
                    "aidcases.Attachment",
                ],
                pgh_data__person_id=person.pk,
            )
        )
        .order_by("-pgh_created_at", "-pgh_id")[:HISTORY_LIMIT]
    )
    case_ids = list(AidCase.objects.filter(person=person).values_list("pk", flat=True))
    if case_ids:
        cases = [AidCase(pk=pk) for pk in case_ids]
        own += list(
            events.references(cases)
            .across(TekunProfileEvent)
            .order_by("-pgh_created_at", "-pgh_id")[:HISTORY_LIMIT]
        )
    own.sort(key=lambda e: (e.pgh_created_at, e.pgh_id), reverse=True)
    return own[:HISTORY_LIMIT]


class _Lookups:
    """Names for the ids that appear in diffs, fetched in one query per kind."""

    def __init__(self, events: list) -> None:
        area_ids, user_ids = set(), set()
        for e in events:
            if e.user_id:
                user_ids.add(e.user_id)
            for key, values in (e.pgh_diff or {}).items():
                if key == "area_id":
                    area_ids.update(v for v in values if v)
        self.areas = {a.pk: a.name for a in Area.objects.filter(pk__in=area_ids)}
        self.users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)}


def _show(model, column: str, value: Any, lookups: _Lookups) -> str:
    if value is None or value == "" or value == []:
        return "（空）"
    if column in PHONE_COLUMNS:
        return pii.mask_phone(value)
    if column == "area_id":
        return lookups.areas.get(value, str(value))
    if column == "flags":
        labels = dict(HARDSHIP_FLAGS)
        return "、".join(str(labels.get(v, v)) for v in value)
    by_column = {f.column: f for f in model._meta.concrete_fields}
    model_field = by_column.get(column)
    if isinstance(value, bool):
        return "是" if value else "否"
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    text = str(value)
    return text if len(text) <= 60 else text[:60] + "…"


def _changes(model, diff: dict, lookups: _Lookups) -> list[str]:
    by_column = {f.column: f for f in model._meta.concrete_fields}
    out: list[str] = []
    if SECRET_COLUMNS & diff.keys():
        # Never the ciphertext, the keyed hash or even the tail: just that it changed.
        out.append("身份证号码已修改")
    for column, (old, new) in diff.items():
        if column in SECRET_COLUMNS or column in SKIPPED_COLUMNS:
            continue
        if column == "photo_id":
            out.append("照片已更换" if new else "照片已移除")
            continue
        if column == "merged_into_id":
            out.append(f"已合并到记录 #{new}" if new else "取消合并")
            continue
        if column == "person_id":
            out.append("由重复记录合并而来")
            continue
        if column == "related_person_id":
            out.append("关联的帮扶对象已修改")
            continue
        if model is Attachment and column == "is_active":
            out.append("附件已删除" if not new else "附件已恢复")
            continue
        model_field = by_column.get(column)
        label = str(model_field.verbose_name) if model_field is not None else column
        out.append(
            f"{label}：{_show(model, column, old, lookups)} → {_show(model, column, new, lookups)}"
        )
    return out


def _insert_summary(model, data: dict) -> str:
    if model is Person:
        return "登记建档"
    if model is PersonRelation:
        kind = dict(PersonRelation.Kind.choices).get(data.get("kind"), "")
        return f"新增家庭成员：{kind} {data.get('name') or ''}".rstrip()
    if model is AidCase:
        category = dict(AidCase.Category.choices).get(data.get("category"), "")
        return f"新建“{category}”档案"
    if model is TekunProfile:
        return "填写特困人员信息"
    if model is Attachment:
        return f"上传附件：{data.get('title') or data.get('original_name') or ''}"
    return "新增"


def history_rows(person: Person) -> list[HistoryRow]:
    events = _history_events(person)
    lookups = _Lookups(events)
    rows = []
    for e in events:
        model = TRACKED.get(e.pgh_obj_model)
        if model is None:
            continue
        what = MODEL_LABELS.get(e.pgh_obj_model, e.pgh_obj_model)
        if model is AidCase:
            category = dict(AidCase.Category.choices).get((e.pgh_data or {}).get("category"))
            if category:
                what = f"帮扶档案（{category}）"
        if e.pgh_label == "insert":
            action, changes = "新增", [_insert_summary(model, e.pgh_data or {})]
        elif e.pgh_label == "delete":
            action, changes = "删除", []
        else:
            action, changes = "修改", _changes(model, e.pgh_diff or {}, lookups)
            if not changes:
                continue  # only bookkeeping columns moved
        rows.append(
            HistoryRow(
                at=e.pgh_created_at,
                actor=lookups.users.get(e.user_id),
                what=what,
                action=action,
                changes=changes,
            )
        )
    return rows


def history_context(person: Person, user: User) -> dict | None:
    if not can_see_trail(user):
        return None
    return {"rows": history_rows(person), "limit": HISTORY_LIMIT}


# --- 查阅记录 -----------------------------------------------------------------


def viewer_events(person: Person) -> list[AuditEvent]:
    attachment_ids = [
        str(pk) for pk in Attachment.objects.filter(person=person).values_list("pk", flat=True)
    ]
    person_type = ContentType.objects.get_for_model(Person)
    condition = Q(object_type=person_type, object_id=str(person.pk), verb__in=VIEW_VERBS)
    if attachment_ids:
        condition |= Q(
            object_type=ContentType.objects.get_for_model(Attachment),
            object_id__in=attachment_ids,
            verb="attachment.download",
        )
    events = list(
        AuditEvent.objects.filter(condition)
        .select_related("actor")
        .order_by("-at", "-id")[:VIEWERS_LIMIT]
    )
    for event in events:
        event.label = verb_label(event.verb)
        details = event.details or {}
        if event.verb == "person.reveal":
            event.note = REVEAL_FIELD_LABELS.get(details.get("field"), "")
        elif event.verb == "attachment.download":
            event.note = event.object_repr + ("（照片缩略图）" if details.get("thumbnail") else "")
        else:
            event.note = ""
    return events


def viewers_context(person: Person, user: User) -> dict | None:
    if not can_see_trail(user):
        return None
    return {"events": viewer_events(person), "limit": VIEWERS_LIMIT}


SECTIONS = [
    archive.Section(
        "identity", "身份与家庭", "aidcases/archive/_identity.html", identity_context, 10
    ),
    archive.Section("cases", "帮扶档案", "aidcases/archive/_cases.html", cases_context, 20),
    archive.Section(
        "attachments", "附件", "aidcases/archive/_attachments.html", attachments_context, 80
    ),
    archive.Section("history", "变更记录", "aidcases/archive/_history.html", history_context, 90),
    archive.Section("viewers", "查阅记录", "aidcases/archive/_viewers.html", viewers_context, 95),
]
for _section in SECTIONS:
    archive.register(_section)
