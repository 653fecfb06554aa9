"""Duplicate records: mark two as different people, or fold one into the other."""

from __future__ import annotations

import pghistory.models
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases import pii, search
from aidcases.audit import audit_log
from aidcases.models import AidCase, DistinctPersons, Person, User
from aidcases.services.common import acting, require_area, require_perm


@transaction.atomic
def person_mark_distinct(*, acting_user: User, a: Person, b: Person) -> None:
    require_perm(acting_user, "aidcases.change_person")
    require_area(acting_user, a.area, b.area)
    first, second = sorted([a, b], key=lambda p: p.pk)
    DistinctPersons.objects.get_or_create(
        person_a=first, person_b=second, defaults={"decided_by": acting_user}
    )
    audit_log(
        actor=acting_user,
        verb="person.distinct",
        obj=first,
        area=first.area,
        details={"other": second.pk},
    )


def person_merge(*, acting_user: User, keep: Person, drop: Person) -> Person:
    """Fold `drop` into `keep`: every row that points at `drop` — in any app —
    is re-pointed; `drop` is deactivated with `merged_into = keep`.

    Two open cases of the same category cannot both survive: the dropped
    record's one is closed with the reason "合并重复记录".
    """
    require_perm(acting_user, "aidcases.change_person")
    if keep.pk == drop.pk:
        raise ValidationError(_("不能把记录与自己合并。"))
    require_area(acting_user, keep.area, drop.area)
    with transaction.atomic(), acting(acting_user):
        keep = Person.objects.select_for_update().get(pk=keep.pk)
        drop = Person.objects.select_for_update().get(pk=drop.pk)
        if drop.merged_into_id:
            raise ValidationError(_("该记录已合并过。"))
        if keep.has_id_number and drop.has_id_number and keep.id_number_hash != drop.id_number_hash:
            raise ValidationError(_("两条记录的身份证号码不同，不是同一人，不能合并。"))
        open_keep = set(
            keep.cases.filter(status=AidCase.Status.OPEN).values_list("category", flat=True)
        )
        for case in drop.cases.filter(status=AidCase.Status.OPEN, category__in=open_keep):
            case.status = AidCase.Status.CLOSED
            case.closed_on = timezone.localdate()
            case.closed_reason = "合并重复记录"
            case.save(update_fields=["status", "closed_on", "closed_reason"])
        moved: dict[str, int] = {}
        for rel in Person._meta.related_objects:
            if rel.related_model in (DistinctPersons,) or rel.remote_field.name == "merged_into":
                continue
            if issubclass(rel.related_model, pghistory.models.Event):
                continue  # history stays with the record it describes (and is append-only)
            if not (rel.one_to_many or rel.one_to_one):
                continue
            field = rel.remote_field.name
            count = rel.related_model._base_manager.filter(**{field: drop}).update(**{field: keep})
            if count:
                moved[rel.related_model._meta.label] = count
        DistinctPersons.objects.filter(Q(person_a=drop) | Q(person_b=drop)).delete()
        # The identity moves to the surviving record when only `drop` had it.
        if drop.has_id_number and not keep.has_id_number:
            keep.id_number_hash, keep.id_number_encrypted = (
                drop.id_number_hash,
                drop.id_number_encrypted,
            )
            drop.id_number_hash, drop.id_number_encrypted = None, ""
            drop.no_id_reason = f"已合并到 {keep.pk}"
            drop.save(update_fields=["id_number_hash", "id_number_encrypted", "no_id_reason"])
            keep.no_id_reason = ""
        for field_name in ("phone", "address", "guardian_name", "guardian_relationship",
                           "guardian_phone", "birth_date"):  # fmt: skip
            if not getattr(keep, field_name) and getattr(drop, field_name):
                setattr(keep, field_name, getattr(drop, field_name))
        if keep.photo_id is None and drop.photo_id is not None:
            keep.photo_id = drop.photo_id
        keep.search_tokens = search.person_tokens(
            name=keep.name,
            id_number=pii.decrypt(keep.id_number_encrypted) if keep.has_id_number else "",
            phone=keep.phone,
            guardian_phone=keep.guardian_phone,
        )
        keep.updated_at = timezone.now()
        keep.save()
        drop.is_active = False
        drop.merged_into = keep
        drop.save(update_fields=["is_active", "merged_into"])
        audit_log(
            actor=acting_user,
            verb="person.merge",
            obj=keep,
            area=keep.area,
            details={"merged": drop.pk, "moved": moved},
        )
    return keep
