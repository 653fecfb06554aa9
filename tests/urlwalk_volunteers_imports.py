"""URL-walk entries of the visit-record import (tests/urlwalk.py): its pages are the hub's
/imports/<kind>/ pages, walked already; the township id sent in the upload form is walked
here — an upload into township B's is refused as if B did not exist, and writes nothing."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.urlwalk import ParamUrl


def _visits_and_jobs(w) -> tuple:
    from aidcases.models import Job
    from volunteers.models import Team, Visit

    return Visit.objects.count(), Team.objects.count(), Job.objects.count()


def _form(w, b) -> dict:
    content = f"走访日期,被帮扶人,服务队\n2025-03-05,东冶老人,{w.township_b.name}服务队\n"
    return {
        "township": b(w.township_b.pk),
        "file": SimpleUploadedFile("走访.csv", content.encode()),
    }


# A team leader may not import at all (403 whatever the township).
PARAM_URLS = [
    ParamUrl("import_start", _form, kwargs=lambda w: {"kind": "visits"}, method="post",
             statuses=(404, 403), effect=_visits_and_jobs),
]  # fmt: skip
