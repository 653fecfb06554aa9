"""Roster import URLs for the two-township walk (tests/urlwalk.py): an upload of township
B's officer, reached by its token."""

from __future__ import annotations

from aidcases import people_import
from tests.factories import make_id_number
from tests.urlwalk import ObjectUrl

OBJECT_URLS = {
    "people_import_preview": ObjectUrl(lambda w: {"token": w.import_token_b}),
    "people_import_report": ObjectUrl(lambda w: {"token": w.import_token_b}),
    "people_import_confirm": ObjectUrl(
        lambda w: {"token": w.import_token_b}, owner_status=302, method="post"
    ),
}


def extend_world(world) -> None:
    content = "\n".join(
        [
            "姓名,身份证号码,所在村",
            f"东冶老人,{make_id_number()},{world.village_b.name}",
        ]
    ).encode()
    world.import_token_b = people_import.upload_store(
        user=world.officer_b,
        chunks=[content],
        file_name="东冶乡特困人员.csv",
        category="tekun",
        township=world.township_b,
    )
    people_import.validate_upload(world.officer_b, world.import_token_b)
