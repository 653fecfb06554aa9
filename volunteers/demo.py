"""Demo data of the volunteers app, so that every screen of it shows something: a
关爱特困人员青年志愿服务队 per township of the demo county and a 家燕护苗服务队 (the demo
`leader` leads the team of their township), 10–20 volunteers each, pairings for most open 特困
and 留守 cases (a few still proposed, one proposed more than 14 days ago), a year of visits
(quarterly for 特困, monthly for 留守: some with the person not seen, some cares flagged),
quarterly team activities (one team missed this quarter), and follow-ups (most handled; some
open, one overdue, one urgent mandatory report).

Rows are written directly, in bulk (the seed runs on every `make run`: it must take seconds),
with the follow-up rules of ``volunteers.policy``; history rows name the admin. Runs once:
when the county already has teams, it does nothing.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from aidcases.models import AidCase, Area, User
from aidcases.search import sort_key
from aidcases.seeding import demo_birth, demo_name, demo_phone, register
from aidcases.services.common import acting
from volunteers import policy
from volunteers.models import (
    CARE_KEYS,
    MANDATORY_REPORTS,
    Activity,
    FollowUp,
    Membership,
    Pairing,
    PairingVolunteer,
    Team,
    Visit,
    Volunteer,
)

COUNTY_PATH = "/149901/"
SWALLOW_TOWNSHIP = "149901101"  # 城关镇: the returning students' team
LEADER_USERNAME = "leader"
UNIVERSITIES = ["山西大学", "太原理工大学", "山西师范大学", "中北大学", "山西医科大学"]
MAJORS = ["教育学", "汉语言文学", "数学与应用数学", "英语", "临床医学", "计算机科学与技术"]
KINDS = [
    Volunteer.Kind.CADRE,
    Volunteer.Kind.CADRE,
    Volunteer.Kind.TEACHER,
    Volunteer.Kind.VILLAGE_GRADUATE,
    Volunteer.Kind.OTHER,
]
CARE_NOTES = {
    "home_safety": (
        ["门窗完好", "用电安全", "已检查煤炉烟囱"],
        ["电线老化，有安全隐患", "屋顶漏雨"],
    ),
    "mind": (["情绪稳定", "精神状态良好", "乐观开朗"], ["情绪低落，常独自落泪"]),
    "living": (["室内整洁", "生活用品齐全", "院子已清扫"], ["屋内潮湿，被褥发霉"]),
    "health": (["身体状况良好", "血压平稳", "按时服药"], ["腿脚不便，需要复查", "咳嗽多日未就医"]),
    "urgent": ([""], ["冬季取暖煤不够", "需要办理慢性病卡", "轮椅损坏"]),
}
OWN_ACTIONS = ["帮收玉米", "理发", "打扫卫生", "代购生活用品", "陪同就医", "修理电灯", ""]
PLACES = ["敬老院", "党群服务中心", "村委会", "中心小学"]
NOT_SEEN = ["外出就医", "去子女家小住", "家中无人"]


def _months_ago(today: date, months: int, day: int) -> date:
    month = today.month - months
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, min(day, 28))


@register("volunteers", order=30)
def seed_volunteers(admin: User, rng: random.Random) -> str:
    if Team.objects.filter(area__path__startswith=COUNTY_PATH).exists():
        return "志愿服务：已有演示数据，跳过。"
    townships = list(
        Area.objects.filter(level=Area.Level.TOWNSHIP, path__startswith=COUNTY_PATH).order_by(
            "code"
        )
    )
    if not townships:
        return "志愿服务：没有演示县，跳过。"
    with transaction.atomic(), acting(admin):
        return _seed(admin, rng, townships)


def _seed(admin: User, rng: random.Random, townships: list[Area]) -> str:
    today = timezone.localdate()
    year_ago = today - timedelta(days=365)
    leader = User.objects.filter(username=LEADER_USERNAME, is_active=True).first()

    # Teams: one per township, plus the county's 家燕护苗 team of returning students.
    teams: list[Team] = []
    for township in townships:
        teams.append(
            Team(
                name=f"{township.name}关爱特困人员青年志愿服务队",
                kind=Team.Kind.TEKUN_CARE,
                area=township,
                leader=leader if leader is not None and leader.area_id == township.pk else None,
                issuing_organisation=f"共青团{township.name}委员会",
                created_by=admin,
            )
        )
    swallow_area = next((t for t in townships if t.code == SWALLOW_TOWNSHIP), townships[0])
    swallow = Team(
        name="青山县家燕护苗服务队",
        kind=Team.Kind.SWALLOW,
        area=swallow_area,
        issuing_organisation="共青团青山县委员会",
        created_by=admin,
    )
    teams.append(swallow)
    Team.objects.bulk_create(teams)
    tekun_team = {team.area_id: team for team in teams if team.kind == Team.Kind.TEKUN_CARE}

    # Volunteers and memberships: 10–20 per team, a captain and a liaison.
    volunteers: list[Volunteer] = []
    team_of: list[Team] = []
    for team in teams:
        for _ in range(rng.randint(10, 20)):
            returning = team.kind == Team.Kind.SWALLOW
            name = demo_name(rng)
            volunteers.append(
                Volunteer(
                    name=name,
                    name_sort=sort_key(name),
                    gender=rng.choice(list(Volunteer.Gender.values)),
                    birth_date=demo_birth(rng, 2003, 2006)
                    if returning
                    else demo_birth(rng, 1985, 2000),
                    phone=demo_phone(rng),
                    kind=Volunteer.Kind.RETURNING_STUDENT if returning else rng.choice(KINDS),
                    university=rng.choice(UNIVERSITIES) if returning else "",
                    major=rng.choice(MAJORS) if returning else "",
                    area=team.area,
                    created_by=admin,
                )
            )
            team_of.append(team)
    Volunteer.objects.bulk_create(volunteers)
    members: dict[int, list[Volunteer]] = {}
    memberships = []
    for volunteer, team in zip(volunteers, team_of, strict=True):
        crew = members.setdefault(team.pk, [])
        role = (
            (Membership.Role.CAPTAIN, Membership.Role.LIAISON)[len(crew)]
            if len(crew) < 2
            else (Membership.Role.MEMBER)
        )
        crew.append(volunteer)
        memberships.append(
            Membership(
                team=team,
                volunteer=volunteer,
                role=role,
                started_on=year_ago - timedelta(days=rng.randint(0, 400)),
            )
        )
    Membership.objects.bulk_create(memberships)

    # Pairings: most open 特困 and 留守 cases; a few still being confirmed.
    cases = list(
        AidCase.objects.filter(
            person__area__path__startswith=COUNTY_PATH,
            status=AidCase.Status.OPEN,
            category__in=[AidCase.Category.TEKUN, AidCase.Category.LEFT_BEHIND],
        )
        .select_related("person__area")
        .order_by("pk")
    )
    pairings: list[Pairing] = []
    crews: list[list[Volunteer]] = []
    stale_done = False
    for case in cases:
        township_id = case.person.area.parent_id
        if case.category == AidCase.Category.LEFT_BEHIND and rng.random() < 0.5:
            team = swallow
        else:
            team = tekun_team.get(township_id)
        if team is None:
            continue
        roll = rng.random()
        if roll < 0.1:
            continue  # not paired yet: the worklist shows them
        crew = rng.sample(members[team.pk], rng.randint(1, 3))
        started = year_ago - timedelta(days=rng.randint(5, 60))
        if roll < 0.16:
            # Proposed, waiting for the volunteers or the person; one for weeks.
            proposed = today - timedelta(days=rng.randint(2, 10))
            confirmed = roll >= 0.13
            if not stale_done:
                proposed, stale_done, confirmed = today - timedelta(days=30), True, False
            pairing = Pairing(
                case=case,
                team=team,
                state=Pairing.State.VOLUNTEER_CONFIRMED if confirmed else Pairing.State.PROPOSED,
                proposed_on=proposed,
                proposed_by=admin,
                volunteers_confirmed_on=proposed + timedelta(days=1) if confirmed else None,
            )
        else:
            pairing = Pairing(
                case=case,
                team=team,
                state=Pairing.State.ACTIVE,
                proposed_on=started - timedelta(days=7),
                proposed_by=admin,
                volunteers_confirmed_on=started - timedelta(days=3),
                person_confirmed_on=started,
                person_confirmed_by=case.person.name
                if case.category == AidCase.Category.TEKUN
                else demo_name(rng),
                person_confirmed_how=rng.choice(["当面签字确认", "电话确认", "入户确认"]),
                person_confirmation_recorded_by=admin,
                started_on=started,
            )
        pairings.append(pairing)
        crews.append(crew)
    Pairing.objects.bulk_create(pairings)
    PairingVolunteer.objects.bulk_create(
        PairingVolunteer(
            pairing=pairing,
            volunteer=volunteer,
            is_lead=i == 0,
            confirmed_on=pairing.volunteers_confirmed_on,
        )
        for pairing, crew in zip(pairings, crews, strict=True)
        for i, volunteer in enumerate(crew)
    )

    # A year of visits by the active pairings: quarterly for 特困, monthly for 留守. Some
    # cases miss their latest visit, so the due and overdue lists show them.
    visits: list[Visit] = []
    visitors: list[list[Volunteer]] = []
    for pairing, crew in zip(pairings, crews, strict=True):
        if pairing.state != Pairing.State.ACTIVE:
            continue
        tekun = pairing.case.category == AidCase.Category.TEKUN
        step = 3 if tekun else 1
        behind = rng.random() < 0.2
        for months in range(12, -1, -step):
            if months < (step + 1 if behind else 0):
                continue
            when = _months_ago(today, months, rng.randint(1, 28))
            if when > today or when < pairing.started_on:
                continue
            visit = _visit(rng, pairing, when, admin, tekun=tekun)
            visits.append(visit)
            visitors.append(rng.sample(crew, rng.randint(1, len(crew))))
    Visit.objects.bulk_create(visits)
    through = Visit.visitors.through
    through.objects.bulk_create(
        through(visit_id=visit.pk, volunteer_id=volunteer.pk)
        for visit, crew in zip(visits, visitors, strict=True)
        for volunteer in crew
    )

    # Follow-ups from what the visits found (as the form and the import open them): the older
    # ones handled, the recent ones open, one overdue; and one urgent mandatory report.
    owners: dict[int, User] = {}
    follow_ups: list[FollowUp] = []
    overdue_done = False
    for visit in visits:
        for need in policy.needs_of(_values(visit)):
            area_id = visit.case.person.area_id
            if area_id not in owners:
                owners[area_id] = policy.owner_for(visit.case, admin)
            due = policy.due_on(need, visit.date, visit.date)
            follow_up = FollowUp(
                case=visit.case,
                visit=visit,
                source_key=need.source_key,
                need=need.text,
                owner=owners[area_id],
                due_on=due,
                urgency=need.urgency,
                is_mandatory_report=need.is_mandatory_report,
                created_by=admin,
            )
            if due < today - timedelta(days=45):
                follow_up.state = FollowUp.State.RESOLVED
                follow_up.resolution = rng.choice(
                    ["已联系民政办解决", "已协调村委会上门维修", "已陪同到卫生院检查", "已送去物资"]
                )
                follow_up.resolved_on = due
            elif due < today:
                if overdue_done:
                    follow_up.state = FollowUp.State.IN_PROGRESS
                    follow_up.due_on = today + timedelta(days=rng.randint(1, 10))
                overdue_done = True  # the first one past due stays overdue
            follow_ups.append(follow_up)
    if not overdue_done and follow_ups:
        # Few visits found anything lately: the most recent need stays open past its date.
        late = max(follow_ups, key=lambda f: (f.visit.date, f.visit.case_id))
        late.state, late.resolution, late.resolved_on = FollowUp.State.OPEN, "", None
        late.due_on = today - timedelta(days=2)
    latest_child = max(
        (v for v in visits if v.case.category == AidCase.Category.LEFT_BEHIND),
        key=lambda v: (v.date, v.case_id),
        default=None,
    )
    if latest_child is not None:
        latest_child.report_guardian_unable = True
        latest_child.actual_carer = "邻居"
        latest_child.carer_matches_guardian = False
        Visit.objects.filter(pk=latest_child.pk).update(
            report_guardian_unable=True, actual_carer="邻居", carer_matches_guardian=False
        )
        for need in policy.needs_of({"report_guardian_unable": True}):
            follow_ups.append(
                FollowUp(
                    case=latest_child.case,
                    visit=latest_child,
                    source_key=need.source_key,
                    need=need.text,
                    owner=policy.owner_for(latest_child.case, admin),
                    due_on=today,
                    urgency=need.urgency,
                    is_mandatory_report=True,
                    referred_to=FollowUp.ReferredTo.CHILD_DIRECTOR,
                    created_by=admin,
                )
            )
    FollowUp.objects.bulk_create(follow_ups)

    # Team activities: one a quarter for the past year; one team missed this quarter.
    activities: list[Activity] = []
    participants: list[list[Volunteer]] = []
    for n, team in enumerate(teams):
        for quarters in range(4, -1, -1):
            if quarters == 0 and n == 1:
                continue
            when = _months_ago(today, quarters * 3, rng.randint(1, 28))
            if when > today:
                when = today
            kind = (
                Activity.Kind.SWALLOW
                if team.kind == Team.Kind.SWALLOW
                else rng.choice([Activity.Kind.FIVE_CARES, Activity.Kind.OWN_CHOICE])
            )
            activities.append(
                Activity(
                    team=team,
                    date=when,
                    kind=kind,
                    place=team.area.name + rng.choice(PLACES),
                    content=rng.choice(
                        [
                            "走访慰问特困老人，开展“五个关爱”",
                            "为老人理发、打扫卫生",
                            "帮助老人收玉米",
                            "暑期为留守儿童辅导作业",
                            "安全知识宣讲",
                        ]
                    ),
                    people_served=rng.randint(5, 30),
                    entered_by=admin,
                )
            )
            participants.append(rng.sample(members[team.pk], min(len(members[team.pk]), 6)))
    Activity.objects.bulk_create(activities)
    through = Activity.participants.through
    through.objects.bulk_create(
        through(activity_id=activity.pk, volunteer_id=volunteer.pk)
        for activity, crew in zip(activities, participants, strict=True)
        for volunteer in crew
    )
    open_count = sum(1 for f in follow_ups if f.state in FollowUp.OPEN_STATES)
    return (
        f"志愿服务：新增服务队 {len(teams)} 支、志愿者 {len(volunteers)} 人、"
        f"结对 {len(pairings)} 对、"
        f"走访记录 {len(visits)} 条、团队活动 {len(activities)} 次、跟进事项 {len(follow_ups)} 项"
        f"（未办结 {open_count} 项）。"
    )


def _visit(rng: random.Random, pairing: Pairing, when: date, admin: User, *, tekun: bool) -> Visit:
    seen = rng.random() > 0.08
    visit = Visit(
        case=pairing.case,
        team=pairing.team,
        date=when,
        mode=Visit.Mode.IN_PERSON if rng.random() > 0.15 else Visit.Mode.REMOTE,
        seen_in_person=seen,
        not_seen_reason="" if seen else rng.choice(NOT_SEEN),
        source=Visit.Source.FORM if rng.random() > 0.3 else Visit.Source.IMPORT,
        entered_by=admin,
    )
    if tekun:
        for key in CARE_KEYS:
            fine, worrying = CARE_NOTES[key]
            flagged = seen and rng.random() < 0.06
            setattr(visit, f"{key}_note", rng.choice(worrying if flagged else fine))
            setattr(visit, f"{key}_concern", flagged and key != "urgent")
        visit.own_action = rng.choice(OWN_ACTIONS)
    else:
        visit.left_behind_kind = rng.choice(list(Visit.LeftBehindKind.values))
        visit.actual_carer = rng.choice(["祖父", "祖母", "外祖母"])
        visit.carer_matches_guardian = True
        visit.schooling = rng.choice(["成绩中等", "数学进步明显", "按时完成作业", "语文较弱"])
        visit.child_health = rng.choice(["健康", "感冒已好转", "健康"])
        visit.child_mood = rng.choice(["开朗", "想念父母", "情绪稳定"])
        visit.child_safety = rng.choice(["无安全隐患", "已讲解防溺水知识"])
        visit.parents_contacted = rng.random() > 0.2
    return visit


def _values(visit: Visit) -> dict:
    """The fields ``policy.needs_of`` reads."""
    names = [f"{key}_{part}" for key in CARE_KEYS for part in ("note", "concern")]
    names += [field for field, _label in MANDATORY_REPORTS]
    return {name: getattr(visit, name) for name in names}
