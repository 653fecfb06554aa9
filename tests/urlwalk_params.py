"""Ids that arrive in query strings and POST bodies, for the two-township walk
(tests/urlwalk.py PARAM_URLS): each is sent with township B's id and with an id that does
not exist, by users of township A; both must get the same answer, and change nothing."""

from __future__ import annotations

from tests.factories import make_person
from tests.urlwalk import ParamUrl


def extend_world(world) -> None:
    world.params_person_a = make_person(world.village_a, name="赵城关", category="tekun")
    world.params_person_b = make_person(world.village_b, name="吴东冶", category="tekun")


def _people(w) -> tuple:
    from aidcases.models import DistinctPersons, Person

    return (
        Person.objects.filter(is_active=True).count(),
        Person.objects.filter(merged_into__isnull=False).count(),
        DistinctPersons.objects.count(),
    )


def _jobs_and_people(w) -> tuple:
    from aidcases.models import Job, Person

    return Job.objects.count(), Person.objects.count()


def _schools(w) -> int:
    from students.models import School

    return School.objects.count()


_A = "params_person_a"
_B = "params_person_b"

# Pages that refuse a whole role (a team leader may not merge, export or register) answer
# 403 for B's id and for a missing one alike; that is allowed where 403 is listed.
PARAM_URLS = [
    # htmx village <option>s: none of B's villages for a township id of B's
    ParamUrl("person_village_options", lambda w, b: {"township": b(w.township_b.pk)},
             statuses=(200,)),
    # the area picker's htmx <option>s: none of B's villages for a township id of B's
    ParamUrl("area_options", lambda w, b: {"from": "p", "p": b(w.township_b.pk)},
             statuses=(200,)),
    # the list's filters: a township or village of B's is an invalid filter, no row of B's
    ParamUrl("person_list", lambda w, b: {"township": b(w.township_b.pk)}, statuses=(200,)),
    ParamUrl("person_list", lambda w, b: {"village": b(w.village_b.pk)}, statuses=(200,)),
    # the duplicate review: merge (confirmation page and the merge itself), mark distinct
    ParamUrl("person_merge", lambda w, b: {"a": getattr(w, _A).pk, "b": b(getattr(w, _B).pk)},
             statuses=(404, 403), effect=_people),
    ParamUrl("person_merge", lambda w, b: {"keep": getattr(w, _A).pk,
                                           "drop": b(getattr(w, _B).pk)},
             method="post", statuses=(404, 403), effect=_people),
    ParamUrl("person_merge", lambda w, b: {"keep": b(getattr(w, _B).pk),
                                           "drop": getattr(w, _A).pk},
             method="post", statuses=(404, 403), effect=_people),
    ParamUrl("person_merge", lambda w, b: {"a": getattr(w, _A).pk, "b": b(getattr(w, _B).pk),
                                           "keep": getattr(w, _A).pk},
             method="post", statuses=(404, 403), effect=_people),
    ParamUrl("person_distinct", lambda w, b: {"a": getattr(w, _A).pk,
                                              "b": b(getattr(w, _B).pk)},
             method="post", statuses=(404, 403), effect=_people),
    # the export of the list, filtered to B's township or village: no job
    ParamUrl("person_export", lambda w, b: {"township": b(w.township_b.pk)}, method="post",
             statuses=(302, 403), effect=_jobs_and_people),
    ParamUrl("person_export", lambda w, b: {"village": b(w.village_b.pk), "full": "on"},
             method="post", statuses=(302, 403), effect=_jobs_and_people),
    # an import into B's township
    ParamUrl("import_start", lambda w, b: {"category": "tekun", "township": b(w.township_b.pk)},
             kwargs=lambda w: {"kind": "people"}, method="post", statuses=(404, 403),
             effect=_jobs_and_people),
    # registering a person in B's village, a school in B's township: a refused choice
    ParamUrl("person_create", lambda w, b: {"name": "新登记", "area": b(w.village_b.pk),
                                            "no_id_reason": "未办理", "gender": "male"},
             method="post", statuses=(200, 403), effect=_jobs_and_people),
    ParamUrl("school_create", lambda w, b: {"name": "新学校", "township": b(w.township_b.pk)},
             method="post", statuses=(200, 403), effect=_schools),
    # the audit export is for admins and auditors only
    ParamUrl("audit_export", lambda w, b: {"actor": b(w.officer_b.pk)}, method="post",
             statuses=(403,), effect=_jobs_and_people),
]  # fmt: skip
