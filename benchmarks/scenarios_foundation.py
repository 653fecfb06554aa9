"""Foundation pages at province scale: ~3,000 villages, 200,000 audit events."""

from __future__ import annotations

from django.db import connection

from aidcases.models import Area, AuditEvent, User

PROVINCE_COUNTIES = 10
TOWNSHIPS_PER_COUNTY = 15
VILLAGES_PER_TOWNSHIP = 20
AUDIT_EVENTS = 200_000


def populate() -> dict:
    from aidcases.management.commands.seed_demo import Command as Seed

    Seed().handle()
    if Area.objects.filter(code__startswith="1498").count() < PROVINCE_COUNTIES:
        rows = []
        for c in range(PROVINCE_COUNTIES):
            county = f"1498{c:02d}"
            rows.append((county, f"基准县{c}", "county", None, f"/{county}/"))
            for t in range(TOWNSHIPS_PER_COUNTY):
                town = f"{county}{100 + t:03d}"
                rows.append((town, f"基准镇{c}-{t}", "township", county, f"/{county}/{town}/"))
                for v in range(VILLAGES_PER_TOWNSHIP):
                    vil = f"{town}{200 + v:03d}"
                    rows.append(
                        (vil, f"基准村{c}-{t}-{v}", "village", town, f"/{county}/{town}/{vil}/")
                    )
        by_code: dict[str, Area] = {}
        for code, name, level, parent, path in rows:  # parents come first
            by_code[code] = Area(
                code=code, name=name, level=level, parent=by_code.get(parent), path=path
            )
        for level in ("county", "township", "village"):
            batch = [a for a in by_code.values() if a.level == level]
            for a in batch:
                a.parent_id = a.parent.pk if a.parent else None
            Area.objects.bulk_create(batch, batch_size=2000)
    missing = AUDIT_EVENTS - AuditEvent.objects.count()
    if missing > 0:
        admin_id = User.objects.get(username="admin").pk
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO aidcases_auditevent (actor_id, verb, object_id, object_repr,
                                                 details, ip, at)
                SELECT %s, (ARRAY['auth.login','user.update','job.download'])[1 + g %% 3],
                       g::text, '基准对象' || g, '{"n": 1}'::jsonb, '10.0.0.1',
                       now() - (g || ' seconds')::interval
                FROM generate_series(1, %s) AS g
                """,
                [admin_id, missing],
            )
    return {"areas": Area.objects.count(), "audit_events": AuditEvent.objects.count()}


def pages() -> list[tuple[str, str, object]]:
    users = {u.username: u for u in User.objects.filter(username__in=["admin", "officer_a"])}
    township = Area.objects.filter(level="township", code__startswith="1498").first()
    # Where 下一页 leads after 1,999 pages: the last row of page 1,999.
    deep = AuditEvent.objects.order_by("-at", "-id").values_list("pk", flat=True)[99_949]
    return [
        ("home (officer)", "/", users["officer_a"]),
        ("home (admin)", "/", users["admin"]),
        ("area list (admin)", "/areas/", users["admin"]),
        ("area detail township (admin)", f"/areas/{township.code}/", users["admin"]),
        ("audit log page 1", "/audit/", users["admin"]),
        ("audit log page 2000 (下一页 link)", f"/audit/?after={deep}&page=2000", users["admin"]),
        ("audit log ?page=2000 (typed page number)", "/audit/?page=2000", users["admin"]),
        ("audit log filtered by verb", "/audit/?verb=user.update", users["admin"]),
        ("field history", "/audit/history/", users["admin"]),
        ("user list", "/users/", users["admin"]),
    ]
