"""Volunteer teams and visits at province scale: 3,000 teams, 30,000 volunteers, a pairing
for every open 特困 and 留守 case of the registry scenario, 800,000 visits (a year of
them: quarterly for 特困, monthly for 留守) and 100,000 follow-ups.

Loaded with INSERT … SELECT in PostgreSQL (history triggers off, as the registry's load):
the rows are shaped like the app's, the work is the database's.
"""

from __future__ import annotations

import time

from django.db import connection, transaction

from aidcases.models import Area, User

TEAMS = 3_000
# The bench's own teams (its townships' codes start 1498): the demo county's seeded teams,
# pairings and visits in the same database are left alone.
BENCH_TEAMS = (
    "(SELECT t.id FROM volunteers_team t JOIN aidcases_area a ON a.id = t.area_id"
    " WHERE a.code LIKE '1498%%')"
)
VOLUNTEERS_PER_TEAM = 10


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def populate() -> dict:
    from benchmarks import scenarios_registry

    if _count("volunteers_visit") >= 700_000:
        return _sizes()
    scenarios_registry.populate()  # the persons and cases come first
    users, township = scenarios_registry.walk_users()
    admin, officer = users["county"], users["township officer"]
    leader, _ = User.objects.get_or_create(
        username="bench_leader", defaults={"role": "team_leader", "area": township}
    )
    from aidcases.roles import put_in_role_group

    put_in_role_group(leader)
    townships = list(
        Area.objects.filter(level="township", code__startswith="1498")
        .order_by("code")
        .values_list("pk", flat=True)
    )
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            with transaction.atomic():  # all or nothing: a failed load leaves no half
                _load(cursor, townships=townships, admin=admin.pk, officer=officer, leader=leader)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("VACUUM ANALYZE")
    sizes = _sizes()
    sizes["load_seconds"] = round(time.perf_counter() - start, 1)
    return sizes


def _load(cursor, *, townships: list[int], admin: int, officer: User, leader: User) -> None:
    per_township = max(1, TEAMS // len(townships))
    # Teams: per township, one 关爱特困人员青年志愿服务队 and the rest other kinds.
    cursor.execute(
        """
        INSERT INTO volunteers_team
            (name, kind, area_id, leader_id, issuing_organisation, is_active, created_by_id,
             created_at)
        SELECT a.name || '第' || n || '志愿服务队',
               CASE WHEN n = 1 THEN 'tekun_care' WHEN n %% 3 = 0 THEN 'swallow' ELSE 'other' END,
               a.id, NULL, '共青团' || a.name || '委员会', true, %s, now()
        FROM aidcases_area a, generate_series(1, %s) n
        WHERE a.id = ANY(%s)
        ON CONFLICT DO NOTHING
        """,
        [admin, per_township, townships],
    )
    cursor.execute(
        "UPDATE volunteers_team SET leader_id = %s WHERE id = "
        "(SELECT min(id) FROM volunteers_team WHERE area_id = %s)",
        [leader.pk, officer.area_id],
    )
    # Volunteers, each a member of one team.
    cursor.execute(
        f"""
        INSERT INTO volunteers_volunteer
            (name, gender, birth_date, phone, kind, university, major, area_id, skills,
             user_id, id_number_encrypted, id_number_hash, guardian_name, guardian_consent_on,
             guardian_consent_how, notes, is_active, name_sort, created_by_id, created_at)
        SELECT '志愿者' || t.id || '-' || n, CASE WHEN n %% 2 = 0 THEN 'female' ELSE 'male' END,
               date '1990-01-01' + ((t.id * 7 + n * 31) %% 9000)::int,
               '139' || lpad(((t.id * 10 + n) %% 100000000)::text, 8, '0'),
               (ARRAY['cadre', 'teacher', 'village_graduate', 'returning_student',
                      'other'])[1 + n %% 5],
               '', '', t.area_id, '', NULL, '', NULL, '', NULL, '', t.id::text, true,
               'zhiyuanzhe' || lpad(t.id::text, 6, '0') || lpad(n::text, 2, '0'), %s, now()
        FROM volunteers_team t, generate_series(1, %s) n
        WHERE t.id IN {BENCH_TEAMS}
        """,
        [admin, VOLUNTEERS_PER_TEAM],
    )
    cursor.execute(
        """
        INSERT INTO volunteers_membership (team_id, volunteer_id, role, started_on, ended_on)
        SELECT t.id, v.id,
               CASE WHEN v.name LIKE '%%-1' THEN 'captain' ELSE 'member' END,
               date '2025-01-01', NULL
        FROM volunteers_volunteer v
        JOIN volunteers_team t ON v.notes = t.id::text
        """,
        [],
    )
    cursor.execute("UPDATE volunteers_volunteer SET notes = '' WHERE notes <> ''")
    # A pairing for every open 特困 / 留守 case, with a team of the person's township.
    cursor.execute(
        f"""
        WITH teams AS (
            SELECT area_id, array_agg(id ORDER BY id) AS ids FROM volunteers_team
            WHERE id IN {BENCH_TEAMS} GROUP BY area_id
        )
        INSERT INTO volunteers_pairing
            (case_id, team_id, state, proposed_on, proposed_by_id, volunteers_confirmed_on,
             person_confirmed_on, person_confirmed_by, person_confirmed_how,
             person_confirmation_recorded_by_id, started_on, ended_on, end_reason)
        SELECT c.id, teams.ids[1 + c.id %% array_length(teams.ids, 1)],
               CASE WHEN c.id %% 20 = 0 THEN 'proposed' ELSE 'active' END,
               current_date - 400, %s,
               CASE WHEN c.id %% 20 = 0 THEN NULL ELSE current_date - 395 END,
               CASE WHEN c.id %% 20 = 0 THEN NULL ELSE current_date - 390 END,
               '', '', NULL,
               CASE WHEN c.id %% 20 = 0 THEN NULL ELSE current_date - 390 END, NULL, ''
        FROM aidcases_aidcase c
        JOIN aidcases_person p ON p.id = c.person_id
        JOIN aidcases_area v ON v.id = p.area_id
        JOIN teams ON teams.area_id = v.parent_id
        WHERE c.category IN ('tekun', 'left_behind') AND c.status = 'open'
        """,
        [admin],
    )
    cursor.execute(
        f"""
        WITH members AS (
            SELECT team_id, array_agg(volunteer_id ORDER BY volunteer_id) AS ids
            FROM volunteers_membership GROUP BY team_id
        )
        INSERT INTO volunteers_pairingvolunteer (pairing_id, volunteer_id, is_lead, confirmed_on)
        SELECT pr.id, members.ids[1 + pr.id %% array_length(members.ids, 1)], true,
               pr.volunteers_confirmed_on
        FROM volunteers_pairing pr JOIN members ON members.team_id = pr.team_id
        WHERE pr.team_id IN {BENCH_TEAMS}
        """,
        [],
    )
    # A year of visits of the active pairings: 4 for 特困, 11 for 留守.
    cursor.execute(
        f"""
        INSERT INTO volunteers_visit
            (case_id, team_id, date, mode, seen_in_person, not_seen_reason,
             home_safety_note, home_safety_concern, mind_note, mind_concern,
             living_note, living_concern, health_note, health_concern,
             urgent_note, urgent_concern, own_action,
             left_behind_kind, actual_carer, carer_matches_guardian, schooling, child_health,
             child_mood, child_safety, parents_contacted, parents_contact_note,
             report_alone_or_missing, report_guardian_unable, report_suspected_harm,
             notes, source, client_token, entered_by_id, entered_at)
        SELECT pr.case_id, pr.team_id,
               current_date - (i * (CASE WHEN c.category = 'tekun' THEN 91 ELSE 30 END)
                               + pr.case_id %% 20)::int,
               CASE WHEN (pr.case_id + i) %% 9 = 0 THEN 'remote' ELSE 'in_person' END,
               (pr.case_id + i) %% 17 <> 0,
               CASE WHEN (pr.case_id + i) %% 17 = 0 THEN '外出就医' ELSE '' END,
               CASE WHEN c.category = 'tekun' THEN '用电用火安全' ELSE '' END, false,
               CASE WHEN c.category = 'tekun' THEN '情绪稳定' ELSE '' END, false,
               CASE WHEN c.category = 'tekun' THEN '屋内整洁' ELSE '' END, false,
               CASE WHEN c.category = 'tekun' THEN '血压偏高' ELSE '' END,
               c.category = 'tekun' AND (pr.case_id + i) %% 8 = 0,
               CASE WHEN (pr.case_id + i) %% 9 = 0 THEN '需要帮助办理补贴' ELSE '' END,
               (pr.case_id + i) %% 9 = 0,
               CASE WHEN c.category = 'tekun' THEN '帮忙打扫卫生' ELSE '' END,
               CASE WHEN c.category = 'left_behind' THEN 'home' ELSE '' END,
               CASE WHEN c.category = 'left_behind' THEN '祖母' ELSE '' END, NULL,
               CASE WHEN c.category = 'left_behind' THEN '成绩中等' ELSE '' END, '', '', '',
               NULL, '', false, false, false, '', 'import', NULL, %s, now()
        FROM volunteers_pairing pr
        JOIN aidcases_aidcase c ON c.id = pr.case_id,
        generate_series(0, CASE WHEN c.category = 'tekun' THEN 3 ELSE 10 END) i
        WHERE pr.state = 'active' AND pr.team_id IN {BENCH_TEAMS}
        """,
        [admin],
    )
    cursor.execute(
        f"""
        INSERT INTO volunteers_visit_visitors (visit_id, volunteer_id)
        SELECT v.id, pv.volunteer_id
        FROM volunteers_visit v
        JOIN volunteers_pairing pr ON pr.case_id = v.case_id AND pr.team_id = v.team_id
        JOIN volunteers_pairingvolunteer pv ON pv.pairing_id = pr.id AND pv.is_lead
        WHERE v.team_id IN {BENCH_TEAMS}
        """,
        [],
    )
    # Follow-ups from the flagged cares (急难愁盼, else health): 100,000, owned by the
    # township's bench officer in theirs, by the admin elsewhere; a third still open, some of
    # those overdue.
    cursor.execute(
        f"""
        INSERT INTO volunteers_followup
            (case_id, visit_id, source_key, need, owner_id, due_on, urgency,
             is_mandatory_report, referred_to, referred_note, state, resolution, resolved_on,
             created_by_id, created_at)
        SELECT v.case_id, v.id,
               CASE WHEN v.urgent_concern THEN 'urgent' ELSE 'health' END,
               CASE WHEN v.urgent_concern THEN '急难愁盼：需要帮助办理补贴'
                    ELSE '身体健康：血压偏高' END,
               CASE WHEN a.path LIKE %s THEN %s ELSE %s END,
               v.date + 14, CASE WHEN v.id %% 50 = 0 THEN 'urgent' ELSE 'normal' END, false,
               CASE WHEN v.id %% 4 = 0 THEN 'clinic' ELSE '' END, '',
               CASE WHEN v.id %% 3 = 0 THEN 'open' ELSE 'resolved' END,
               CASE WHEN v.id %% 3 = 0 THEN '' ELSE '已联系卫生院上门测量' END,
               CASE WHEN v.id %% 3 = 0 THEN NULL ELSE v.date + 10 END,
               %s, now()
        FROM volunteers_visit v
        JOIN aidcases_aidcase c ON c.id = v.case_id
        JOIN aidcases_person p ON p.id = c.person_id
        JOIN aidcases_area a ON a.id = p.area_id
        WHERE (v.health_concern OR v.urgent_concern) AND v.team_id IN {BENCH_TEAMS}
        ORDER BY md5(v.id::text)  -- spread over every township, not the first loaded
        LIMIT 100000
        """,
        [officer.area.path + "%", officer.pk, admin, admin],
    )
    # The triggers that keep each case's visit anchor are off during the load.
    from volunteers.models import refresh_all_visit_anchors

    refresh_all_visit_anchors(cursor)
    # Team activities: one a quarter for most teams over the last year; every 10th team
    # skipped the current quarter (the reminders' and the compliance badge's subject).
    cursor.execute(
        f"""
        INSERT INTO volunteers_activity
            (team_id, date, starts_at, ends_at, place, kind, content, people_served,
             backfilled, backfill_reason, entered_by_id, entered_at)
        SELECT t.id, current_date - (q * 91 + t.id %% 60)::int, time '09:00', time '11:30',
               '村委会', 'five_cares', '走访慰问特困人员，开展五个关爱', 12, false, '', %s, now()
        FROM volunteers_team t, generate_series(0, 3) q
        WHERE NOT (q = 0 AND t.id %% 10 = 0) AND t.id IN {BENCH_TEAMS}
        """,
        [admin],
    )


def pages() -> list[tuple[str, str, object]]:
    from django.db.models import Count
    from django.urls import reverse

    from benchmarks import scenarios_registry
    from volunteers.models import Team

    users, township = scenarios_registry.walk_users()
    admin, officer = users["county"], users["township officer"]
    leader = User.objects.get(username="bench_leader")
    biggest = (
        Team.objects.filter(area=township)
        .annotate(n=Count("pairings"))
        .order_by("-n")
        .values_list("pk", "n")
        .first()
    )
    persons = township.path
    from aidcases.models import Person

    in_township = Person.objects.filter(area__path__startswith=persons).count()
    return [
        ("team list (county)", reverse("team_list"), admin),
        ("team list (township officer)", reverse("team_list"), officer),
        (f"team page ({biggest[1]} pairings)", reverse("team_detail", args=[biggest[0]]), admin),
        ("volunteer list (county)", reverse("volunteer_list"), admin),
        ("pairing worklist (township officer)", reverse("pairing_list"), officer),
        ("pairing worklist (county)", reverse("pairing_list"), admin),
        ("visit list (county)", reverse("visit_list"), admin),
        ("visit list (township officer)", reverse("visit_list"), officer),
        ("visit list (team leader)", reverse("visit_list"), leader),
        ("follow-up list (township officer)", reverse("follow_up_list"), officer),
        ("follow-up list (county)", reverse("follow_up_list"), admin),
        (
            f"coverage grid, township of {in_township:,} persons (officer)",
            reverse("visit_coverage"),
            officer,
        ),
        (
            "coverage grid, same township (county)",
            reverse("visit_coverage") + f"?township={township.pk}",
            admin,
        ),
        ("home (township officer, volunteer cards)", "/", officer),
    ]


def _sizes() -> dict:
    tables = {
        "teams": "volunteers_team",
        "volunteers": "volunteers_volunteer",
        "pairings": "volunteers_pairing",
        "visits": "volunteers_visit",
        "follow_ups": "volunteers_followup",
        "activities": "volunteers_activity",
    }
    return {label: _count(table) for label, table in tables.items()}
