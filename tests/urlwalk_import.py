"""Import URLs for the two-township walk (tests/urlwalk.py): an upload of township B's
officer, reached by its token; the upload pages of a kind name no object."""

from __future__ import annotations

from aidcases.importing import flow, uploads
from tests.factories import make_id_number
from tests.urlwalk import ObjectUrl

PAGE_URLS = {
    "import_start": lambda w: {"kind": "people"},
    "import_template": lambda w: {"kind": "people"},
}


def _upload(w) -> dict:
    return {"kind": "people", "token": w.import_token_b}


# A team leader may not import at all: the pages check the kind's permission before the
# upload, the same 403 for any token.
OBJECT_URLS = {
    "import_preview": ObjectUrl(_upload, leader_status=403),
    "import_report": ObjectUrl(_upload, leader_status=403),
    "import_confirm": ObjectUrl(_upload, owner_status=302, method="post", leader_status=403),
    # Last: the owner's cancel deletes the upload.
    "import_cancel": ObjectUrl(_upload, owner_status=302, method="post", leader_status=403),
}


def extend_world(world) -> None:
    content = "\n".join(
        [
            "姓名,身份证号码,所在村",
            f"东冶老人,{make_id_number()},{world.village_b.name}",
        ]
    ).encode()
    upload = uploads.store(
        user=world.officer_b,
        kind="people",
        options={"category": "tekun", "township": world.township_b.pk},
        chunks=[content],
        file_name="东冶乡特困人员.csv",
    )
    flow.check(upload)
    world.import_token_b = upload.token
