"""Writing an imported visit workbook (``volunteers.visit_import``): every visit, its visitors,
the follow-ups it opens, and the teams and volunteers the file named that were not known yet —
all in one transaction, in a few bulk statements.

Not re-exported from ``volunteers.services``: only the import calls it. One service call per
visit could not meet the budget (10,000 rows validated and written in ≤ 20 s), so this writes
exactly what the per-visit service stores in bulk, as ``aidcases.services.people_update_batch``
does for persons: an audit event per visit, per follow-up, per new team and per new volunteer
(and one for the import as a whole), and the trigger-written history under the importing user's
``acting`` context. The rows were checked by the import's validate; scope and permission are
checked here all the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases.audit import audit_event
from aidcases.models import AidCase, Area, AuditEvent, User
from aidcases.search import sort_key
from aidcases.services.common import acting, require_area, require_perm
from volunteers import policy
from volunteers.models import FollowUp, Membership, Team, Visit, Volunteer

PERMISSION = "volunteers.import_visits"
BATCH = 2_000


@dataclass(kw_only=True)
class VisitEntry:
    """One visit to write. ``team`` is None for a team the file names that does not exist
    yet (created by name); ``new_visitors`` are names to add to the team as volunteers."""

    line: int
    case: AidCase  # with person and person.area loaded
    date: date
    team: Team | None
    team_name: str
    visitors: list[Volunteer] = field(default_factory=list)
    new_visitors: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)  # Visit fields: cares, mode, notes …
    needs: list[policy.Need] = field(default_factory=list)


@dataclass(kw_only=True)
class ImportOutcome:
    visits: int = 0
    follow_ups: int = 0
    new_teams: list[str] = field(default_factory=list)
    new_volunteers: list[tuple[str, str]] = field(default_factory=list)  # (team, name)


def _chunks(items: list, size: int = BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@transaction.atomic
def visits_import(
    *, acting_user: User, township: Area, entries: list[VisitEntry], file_name: str = ""
) -> ImportOutcome:
    """Write checked visit rows of ``township``: all or none (the caller turns an
    IntegrityError — someone recorded the same visit meanwhile — into a message)."""
    require_perm(acting_user, PERMISSION)
    require_area(acting_user, township)
    if township.level != Area.Level.TOWNSHIP:
        raise PermissionDenied
    for entry in entries:
        if not entry.case.person.area.path.startswith(township.path):
            raise PermissionDenied
        if entry.team is not None and not entry.team.area.path.startswith(township.path):
            raise PermissionDenied
    outcome = ImportOutcome()
    if not entries:
        return outcome
    today = timezone.localdate()
    now = timezone.now()
    events: list[AuditEvent] = []
    with acting(acting_user):
        teams = _new_teams(acting_user, township, entries, now, events, outcome)
        volunteers = _new_volunteers(acting_user, township, entries, teams, now, events, outcome)

        visits: list[Visit] = []
        for entry in entries:
            team = entry.team or teams[entry.team_name]
            visit = Visit(
                case=entry.case,
                team=team,
                date=entry.date,
                source=Visit.Source.IMPORT,
                entered_by=acting_user,
                entered_at=now,
                **entry.values,
            )
            try:
                visit.clean_fields(exclude=["case", "team", "entered_by", "photos"])
            except ValidationError as exc:
                raise ValidationError(
                    _("第%(line)d行：%(problem)s")
                    % {"line": entry.line, "problem": exc.messages[0]}
                ) from exc
            visits.append(visit)
        for chunk in _chunks(visits):
            Visit.objects.bulk_create(chunk)

        through = Visit.visitors.through
        links = []
        for entry, visit in zip(entries, visits, strict=True):
            team_name = entry.team_name
            people = list(entry.visitors) + [volunteers[(team_name, n)] for n in entry.new_visitors]
            seen: set[int] = set()
            for volunteer in people:
                if volunteer.pk not in seen:
                    seen.add(volunteer.pk)
                    links.append(through(visit_id=visit.pk, volunteer_id=volunteer.pk))
        for chunk in _chunks(links, 5_000):
            through.objects.bulk_create(chunk)

        owners: dict[int, User] = {}
        follow_ups: list[FollowUp] = []
        for entry, visit in zip(entries, visits, strict=True):
            for need in entry.needs:
                area_id = entry.case.person.area_id
                if area_id not in owners:
                    owners[area_id] = policy.owner_for(entry.case, acting_user)
                follow_ups.append(
                    FollowUp(
                        case=entry.case,
                        visit=visit,
                        source_key=need.source_key,
                        need=need.text,
                        owner=owners[area_id],
                        due_on=policy.due_on(need, entry.date, today),
                        urgency=need.urgency,
                        is_mandatory_report=need.is_mandatory_report,
                        created_by=acting_user,
                        created_at=now,
                    )
                )
        for chunk in _chunks(follow_ups):
            FollowUp.objects.bulk_create(chunk)
        outcome.visits = len(visits)
        outcome.follow_ups = len(follow_ups)

        for entry, visit in zip(entries, visits, strict=True):
            events.append(
                audit_event(
                    actor=acting_user,
                    verb="visit.create",
                    obj=visit,
                    area=entry.case.person.area,
                    details={"source": Visit.Source.IMPORT, "line": entry.line},
                )
            )
        for follow_up in follow_ups:
            events.append(
                audit_event(
                    actor=acting_user,
                    verb="follow_up.create",
                    obj=follow_up,
                    area=follow_up.case.person.area,
                    details={
                        "source_key": follow_up.source_key,
                        "urgency": follow_up.urgency,
                        "visit": follow_up.visit_id,
                    },
                )
            )
        events.append(
            audit_event(
                actor=acting_user,
                verb="visit.import",
                obj=township,
                area=township,
                details={
                    "file": file_name,
                    "township": township.code,
                    "visits": outcome.visits,
                    "follow_ups": outcome.follow_ups,
                    "new_teams": outcome.new_teams,
                    "new_volunteers": len(outcome.new_volunteers),
                },
            )
        )
        for chunk in _chunks(events, 5_000):
            AuditEvent.objects.bulk_create(chunk)
    return outcome


def _new_teams(
    user: User,
    township: Area,
    entries: list[VisitEntry],
    now,
    events: list[AuditEvent],
    outcome: ImportOutcome,
) -> dict[str, Team]:
    """Teams named in the file but not registered: a 关爱特困人员青年志愿服务队 of the
    township each, by name."""
    names = list(dict.fromkeys(entry.team_name for entry in entries if entry.team is None))
    if not names:
        return {}
    teams = [
        Team(
            name=name,
            kind=Team.Kind.TEKUN_CARE,
            area=township,
            created_by=user,
            created_at=now,
        )
        for name in names
    ]
    Team.objects.bulk_create(teams)
    events.extend(
        audit_event(
            actor=user,
            verb="team.create",
            obj=team,
            area=township,
            details={"source": "visit_import"},
        )
        for team in teams
    )
    outcome.new_teams = names
    return {team.name: team for team in teams}


def _new_volunteers(
    user: User,
    township: Area,
    entries: list[VisitEntry],
    teams: dict[str, Team],
    now,
    events: list[AuditEvent],
    outcome: ImportOutcome,
) -> dict[tuple[str, str], Volunteer]:
    """Visitor names the team does not have: a volunteer (kind other, home area the
    township) and a current membership from the first visit they made in the file."""
    first_seen: dict[tuple[str, str], tuple[Team, date]] = {}
    for entry in entries:
        team = entry.team or teams[entry.team_name]
        for name in entry.new_visitors:
            key = (entry.team_name, name)
            known = first_seen.get(key)
            if known is None or entry.date < known[1]:
                first_seen[key] = (team, entry.date)
    if not first_seen:
        return {}
    keys = list(first_seen)
    volunteers = [
        Volunteer(
            name=name,
            kind=Volunteer.Kind.OTHER,
            area=township,
            name_sort=sort_key(name),
            notes=_("走访记录导入时新增"),
            created_by=user,
            created_at=now,
        )
        for _team, name in keys
    ]
    Volunteer.objects.bulk_create(volunteers)
    Membership.objects.bulk_create(
        Membership(
            team=first_seen[key][0],
            volunteer=volunteer,
            role=Membership.Role.MEMBER,
            started_on=first_seen[key][1],
        )
        for key, volunteer in zip(keys, volunteers, strict=True)
    )
    events.extend(
        audit_event(
            actor=user,
            verb="volunteer.create",
            obj=volunteer,
            area=township,
            details={"source": "visit_import", "team": first_seen[key][0].pk},
        )
        for key, volunteer in zip(keys, volunteers, strict=True)
    )
    outcome.new_volunteers = keys
    return dict(zip(keys, volunteers, strict=True))
