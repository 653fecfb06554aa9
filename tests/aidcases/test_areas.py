"""Loading the administrative tree from files, and who sees which part of it."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from aidcases.models import Area, AreaEvent, AuditEvent

HEADER = ["区划代码", "名称", "上级区划代码"]

# County → township → village → hamlet → group. Codes below village level are
# not official, so they need not extend their parent's code.
TREE = [
    ("149901", "青山县", ""),
    ("149901101", "城关镇", "149901"),
    ("149901201", "东冶乡", "149901"),
    ("149901101201", "南街村", "149901101"),
    ("149901201201", "东冶村", "149901201"),
    ("900001", "南街自然村", "149901101201"),
    ("900002", "一组", "900001"),
]


def xlsx_bytes(rows, *, title: str | None = "青山县行政区划代码表", header=HEADER) -> bytes:
    """A workbook as county staff make them: a merged title above the header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    line = 1
    if title is not None:
        ws.cell(row=1, column=1, value=title)
        ws.merge_cells("A1:C1")
        line = 2
    if header:
        for col, value in enumerate(header, start=1):
            ws.cell(row=line, column=col, value=value)
        line += 1
    for row in rows:
        for col, value in enumerate(row, start=1):
            ws.cell(row=line, column=col, value=value)
        line += 1
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, *, encoding: str, header=HEADER) -> bytes:
    lines = [",".join(header), *(",".join(str(c) for c in row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def load(path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("load_areas", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def load_fails(path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as exc_info:
        call_command("load_areas", str(path), stdout=out, stderr=err)
    return str(exc_info.value), err.getvalue()


def tree_snapshot() -> dict[str, tuple]:
    return {
        a.code: (a.name, a.level, a.parent.code if a.parent else "", a.path)
        for a in Area.objects.select_related("parent")
    }


# --- loading ------------------------------------------------------------------


def test_load_xlsx_with_title_row_blank_row_and_full_width_digits(db, tmp_path):
    rows = [
        ("１４９９０１", "青山县", None),  # full-width digits, as typed with a Chinese IME
        (),  # a blank row between blocks
        (149901101, " 城关镇 ", 149901),  # numbers stored as numbers, stray spaces
        ("149901101201", "南街村", "149901101"),
    ]
    path = write(tmp_path, "区划.xlsx", xlsx_bytes(rows))

    out, _ = load(path)

    assert "新增 3" in out
    assert tree_snapshot() == {
        "149901": ("青山县", "county", "", "/149901/"),
        "149901101": ("城关镇", "township", "149901", "/149901/149901101/"),
        "149901101201": (
            "南街村",
            "village",
            "149901101",
            "/149901/149901101/149901101201/",
        ),
    }


def test_load_xlsx_without_title_row(db, tmp_path):
    path = write(tmp_path, "areas.xlsx", xlsx_bytes(TREE[:2], title=None))

    load(path)

    assert set(Area.objects.values_list("code", flat=True)) == {"149901", "149901101"}


def test_load_utf8_csv_with_bom(db, tmp_path):
    path = write(tmp_path, "areas.csv", csv_bytes(TREE, encoding="utf-8-sig"))

    out, _ = load(path)

    assert "新增 7" in out
    assert Area.objects.get(code="149901101").name == "城关镇"


def test_load_gbk_csv(db, tmp_path):
    data = csv_bytes(TREE, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really a GBK file, as saved by Excel on Chinese Windows
    path = write(tmp_path, "areas.csv", data)

    load(path)

    assert Area.objects.get(code="149901201201").name == "东冶村"
    assert Area.objects.get(code="900002").name == "一组"


def test_levels_follow_depth(db, tmp_path):
    load(write(tmp_path, "areas.csv", csv_bytes(TREE, encoding="utf-8-sig")))

    levels = dict(Area.objects.values_list("code", "level"))
    assert levels == {
        "149901": "county",
        "149901101": "township",
        "149901201": "township",
        "149901101201": "village",
        "149901201201": "village",
        "900001": "hamlet",
        "900002": "group",
    }
    assert Area.objects.get(code="900002").path == ("/149901/149901101/149901101201/900001/900002/")


def test_children_may_come_before_their_parents_in_the_file(db, tmp_path):
    load(write(tmp_path, "areas.csv", csv_bytes(list(reversed(TREE)), encoding="utf-8-sig")))

    assert Area.objects.get(code="900002").level == "group"
    assert Area.objects.get(code="149901").level == "county"


def test_load_is_audited_as_the_system(db, tmp_path):
    load(write(tmp_path, "areas.csv", csv_bytes(TREE, encoding="utf-8-sig")))

    event = AuditEvent.objects.get(verb="area.load")
    assert event.actor is None
    assert event.details == {"created": 7, "updated": 0}


def test_loading_the_same_file_twice_changes_nothing(db, tmp_path):
    path = write(tmp_path, "区划.xlsx", xlsx_bytes(TREE))
    load(path)
    before = tree_snapshot()
    history = AreaEvent.objects.count()
    audits = AuditEvent.objects.count()

    out, _ = load(path)

    assert "新增 0，更新 0，未变 7" in out
    assert tree_snapshot() == before
    assert AreaEvent.objects.count() == history
    assert AuditEvent.objects.count() == audits


def test_changed_name_is_updated(db, tmp_path):
    load(write(tmp_path, "a.csv", csv_bytes(TREE, encoding="utf-8-sig")))
    renamed = [(c, "城关街道" if c == "149901101" else n, p) for c, n, p in TREE]

    out, _ = load(write(tmp_path, "b.csv", csv_bytes(renamed, encoding="utf-8-sig")))

    assert "新增 0，更新 1，未变 6" in out
    area = Area.objects.get(code="149901101")
    assert area.name == "城关街道"
    assert area.events.filter(pgh_label="update").get().name == "城关街道"


def test_moving_a_township_rewrites_its_subtree_paths(db, tmp_path):
    second_county = ("149902", "绿水县", "")
    load(write(tmp_path, "a.csv", csv_bytes([*TREE, second_county], encoding="utf-8-sig")))

    # Only the township's own row names the new parent; its villages follow it.
    load(write(tmp_path, "b.csv", csv_bytes([("149901101", "城关镇", "149902")], encoding="gbk")))

    tree = tree_snapshot()
    assert tree["149901101"] == ("城关镇", "township", "149902", "/149902/149901101/")
    assert tree["149901101201"][3] == "/149902/149901101/149901101201/"
    assert tree["900001"][3] == "/149902/149901101/149901101201/900001/"
    assert tree["900002"][3] == "/149902/149901101/149901101201/900001/900002/"
    # The sibling township stays where it was.
    assert tree["149901201201"][3] == "/149901/149901201/149901201201/"
    assert Area.objects.get(code="900002").is_within(Area.objects.get(code="149902"))


def test_moving_a_township_with_its_whole_subtree_in_the_file(db, tmp_path):
    load(write(tmp_path, "a.csv", csv_bytes([*TREE, ("149902", "绿水县", "")], encoding="gbk")))
    moved = [(c, n, "149902" if c == "149901101" else p) for c, n, p in TREE]

    load(write(tmp_path, "b.csv", csv_bytes(moved, encoding="gbk")))

    assert Area.objects.get(code="900002").path == ("/149902/149901101/149901101201/900001/900002/")


def test_moving_an_area_to_another_depth_relevels_its_subtree(db, tmp_path):
    # A village promoted straight under the county becomes a township; the
    # levels below it must follow their new depth too.
    load(write(tmp_path, "a.csv", csv_bytes(TREE, encoding="utf-8-sig")))

    promoted = [("149901101201", "南街村", "149901")]
    load(write(tmp_path, "b.csv", csv_bytes(promoted, encoding="gbk")))

    levels = dict(Area.objects.values_list("code", "level"))
    assert levels["149901101201"] == "township"
    assert levels["900001"] == "village"
    assert levels["900002"] == "hamlet"


def test_move_that_pushes_the_subtree_below_five_levels_is_refused(db, tmp_path):
    load(write(tmp_path, "a.csv", csv_bytes(TREE, encoding="utf-8-sig")))
    before = tree_snapshot()

    # 城关镇 has village → hamlet → group below it; under 东冶村 its group would
    # sit seven levels deep.
    rows = [("149901101", "城关镇", "149901201201")]
    err, _ = load_fails(write(tmp_path, "b.csv", csv_bytes(rows, encoding="utf-8-sig")))

    assert "第2行 [上级区划代码] 层级超过五级" in err
    assert tree_snapshot() == before


# --- errors: all or nothing ---------------------------------------------------


def assert_nothing_written() -> None:
    assert not Area.objects.exists()
    assert not AreaEvent.objects.exists()
    assert not AuditEvent.objects.filter(verb="area.load").exists()


def test_duplicate_code_is_refused_naming_both_rows(db, tmp_path):
    rows = [*TREE[:3], ("149901101", "又一个城关镇", "149901")]
    path = write(tmp_path, "areas.xlsx", xlsx_bytes(rows))

    message, _ = load_fails(path)

    # Title on row 1, header on row 2: the data start on Excel row 3.
    assert "第6行 [区划代码] 区划代码149901101重复（第4行已出现）。" in message
    assert "共 1 处问题，未导入任何内容" in message
    assert_nothing_written()


def test_unknown_parent_is_refused(db, tmp_path):
    rows = [*TREE[:2], ("149909101", "无主镇", "149909")]
    path = write(tmp_path, "areas.csv", csv_bytes(rows, encoding="utf-8-sig"))

    err, _ = load_fails(path)

    assert "第4行 [上级区划代码] 上级区划代码149909不存在。" in err
    assert_nothing_written()


def test_non_digit_code_is_refused(db, tmp_path):
    rows = [*TREE[:2], ("14990110A", "坏代码镇", "149901")]
    path = write(tmp_path, "areas.csv", csv_bytes(rows, encoding="utf-8-sig"))

    err, _ = load_fails(path)

    assert "第4行 [区划代码] 区划代码“14990110A”应为数字。" in err
    assert_nothing_written()


def test_every_error_is_reported_at_once(db, tmp_path):
    rows = [
        *TREE[:2],
        ("X1", "甲", "149901"),
        ("149901301", "", "149901"),
        ("149901401", "乙", "7"),
    ]
    path = write(tmp_path, "areas.csv", csv_bytes(rows, encoding="utf-8-sig"))

    message, _ = load_fails(path)

    assert "共 3 处问题" in message
    assert "第4行" in message and "第5行 [名称] 名称不能为空。" in message and "第6行" in message
    assert_nothing_written()


def test_errors_leave_existing_areas_untouched(db, tmp_path):
    load(write(tmp_path, "a.csv", csv_bytes(TREE, encoding="utf-8-sig")))
    before, history = tree_snapshot(), AreaEvent.objects.count()
    rows = [("149901101", "城关街道", "149901"), ("149901999", "新镇", "888888")]

    load_fails(write(tmp_path, "b.csv", csv_bytes(rows, encoding="utf-8-sig")))

    assert tree_snapshot() == before
    assert AreaEvent.objects.count() == history


def test_parent_cycle_is_refused(db, tmp_path):
    rows = [
        ("149901", "青山县", ""),
        ("149901101", "甲镇", "149901102"),
        ("149901102", "乙镇", "149901101"),
    ]
    path = write(tmp_path, "areas.csv", csv_bytes(rows, encoding="utf-8-sig"))

    err, _ = load_fails(path)

    assert "上级关系形成了循环" in err
    assert_nothing_written()


def test_more_than_five_levels_is_refused(db, tmp_path):
    rows = [*TREE, ("900003", "组下之组", "900002")]
    path = write(tmp_path, "areas.csv", csv_bytes(rows, encoding="utf-8-sig"))

    err, _ = load_fails(path)

    assert "第9行 [上级区划代码] 层级超过五级" in err
    assert_nothing_written()


def test_too_long_code_is_a_row_error_not_a_crash(db, tmp_path):
    # Area.code holds 15 characters; a longer code must be reported like any
    # other bad row, not escape as an uncaught ValidationError (a 500 on the web).
    rows = [*TREE[:2], ("1499011012011011", "超长代码组", "149901101")]
    path = write(tmp_path, "areas.csv", csv_bytes(rows, encoding="utf-8-sig"))

    err, _ = load_fails(path)

    assert "第4行" in err
    assert_nothing_written()


def test_missing_header_is_refused(db, tmp_path):
    path = write(tmp_path, "areas.xlsx", xlsx_bytes(TREE, header=["代号", "地名", "上级"]))

    message, _ = load_fails(path)

    assert message.startswith("找不到表头") and "区划代码" in message
    assert_nothing_written()


def test_unsupported_file_type_is_refused(db, tmp_path):
    path = write(tmp_path, "areas.txt", csv_bytes(TREE, encoding="utf-8"))

    message, _ = load_fails(path)

    assert "不支持“.txt”文件" in message and ".xlsx" in message


def test_missing_file_is_refused(db, tmp_path):
    message, _ = load_fails(tmp_path / "nowhere.xlsx")

    assert message.startswith("文件不存在")


def test_corrupt_xlsx_is_refused_in_chinese(db, tmp_path):
    path = write(tmp_path, "areas.xlsx", b"this is not a zip file")

    message, _ = load_fails(path)

    assert "无法读取这个文件" in message


# --- the upload page ------------------------------------------------------------


def upload(client, name: str, data: bytes):
    return client.post(reverse("area_load"), {"file": SimpleUploadedFile(name, data)})


def test_admin_uploads_area_file(client_for, admin):
    # `admin` stands on the conftest county (149901) already.
    client = client_for(admin)

    response = upload(client, "区划.xlsx", xlsx_bytes(TREE))

    assert response.status_code == 302
    preview = client.get(response.url).content.decode()
    assert 'data-testid="count-new">6<' in preview and 'data-testid="count-unchanged">1<' in preview
    assert Area.objects.count() == 1  # the preview writes nothing
    done = client.post(response.url + "confirm/", follow=True).content.decode()
    assert "已导入：新增 6，更新 0，未变 1" in done
    assert Area.objects.count() == 7
    assert Area.objects.get(code="900002").level == "group"
    event = AuditEvent.objects.get(verb="area.load")
    assert event.actor == admin
    assert event.details == {"created": 6, "updated": 0}


def test_upload_of_gbk_csv_works(client_for, admin):
    client = client_for(admin)
    response = upload(client, "areas.csv", csv_bytes(TREE, encoding="gbk"))
    client.post(response.url + "confirm/")

    assert Area.objects.get(code="900001").name == "南街自然村"


def test_upload_with_errors_shows_them_and_writes_nothing(client_for, admin):
    rows = [*TREE[1:3], ("14990110A", "坏代码镇", "149901"), ("149901301", "新镇", "888888")]
    before = tree_snapshot()
    client = client_for(admin)

    response = upload(client, "areas.csv", csv_bytes(rows, encoding="utf-8-sig"))

    body = client.get(response.url).content.decode()
    assert "发现 2 处问题，整个文件都不会导入" in body
    assert "第 4 行" in body and "区划代码“14990110A”应为数字。" in body
    assert "第 5 行" in body and "上级区划代码888888不存在。" in body
    assert 'data-testid="confirm-form"' not in body
    client.post(response.url + "confirm/")
    assert tree_snapshot() == before
    assert not AuditEvent.objects.filter(verb="area.load").exists()


def test_upload_without_header_shows_the_error(client_for, admin):
    response = upload(client_for(admin), "areas.xlsx", xlsx_bytes(TREE, header=None, title=None))

    assert response.status_code == 200
    assert "找不到表头" in response.content.decode()
    assert Area.objects.count() == 1


def test_upload_of_wrong_file_type_shows_the_error(client_for, admin):
    response = upload(client_for(admin), "areas.pdf", b"%PDF-1.4")

    assert response.status_code == 200
    assert "不支持“.pdf”文件" in response.content.decode()


@pytest.mark.parametrize("role_fixture", ["county_staff", "approver", "officer_a", "auditor"])
def test_only_admin_may_upload_areas(request, client_for, role_fixture):
    client = client_for(request.getfixturevalue(role_fixture))

    page = client.get(reverse("area_load"))
    post = upload(client, "areas.csv", csv_bytes(TREE, encoding="utf-8-sig"))

    assert page.status_code == 403
    assert post.status_code == 403
    assert not Area.objects.filter(code="900001").exists()


# --- who sees which areas -------------------------------------------------------


def test_officer_sees_only_own_township_on_area_list(client_for, officer_a, township_b):
    response = client_for(officer_a).get(reverse("area_list"))

    assert response.status_code == 200
    assert [a.code for a in response.context["roots"]] == [officer_a.area.code]
    body = response.content.decode()
    assert "城关镇" in body
    assert "东冶乡" not in body


def test_officer_opens_own_township_and_its_villages(client_for, officer_a, village_a, village_b):
    client = client_for(officer_a)

    township = client.get(reverse("area_detail", args=[officer_a.area.code]))
    village = client.get(reverse("area_detail", args=[village_a.code]))

    assert township.status_code == 200
    assert [a.code for a in township.context["children"]] == [village_a.code]
    assert village.status_code == 200


@pytest.mark.parametrize("area_fixture", ["township_b", "village_b", "county"])
def test_officer_gets_404_outside_own_township(request, client_for, officer_a, area_fixture):
    area = request.getfixturevalue(area_fixture)

    response = client_for(officer_a).get(reverse("area_detail", args=[area.code]))

    assert response.status_code == 404


def test_team_leader_is_scoped_like_an_officer(client_for, leader, village_b):
    client = client_for(leader)

    assert client.get(reverse("area_detail", args=[leader.area.code])).status_code == 200
    assert client.get(reverse("area_detail", args=[village_b.code])).status_code == 404


def test_unknown_area_code_is_404(client_for, county_staff):
    response = client_for(county_staff).get(reverse("area_detail", args=["999999"]))

    assert response.status_code == 404


@pytest.mark.parametrize("role_fixture", ["admin", "county_staff", "approver", "auditor"])
def test_county_roles_see_the_whole_tree(request, client_for, village_a, village_b, role_fixture):
    client = client_for(request.getfixturevalue(role_fixture))

    listing = client.get(reverse("area_list"))
    county = client.get(reverse("area_detail", args=["149901"]))

    assert [a.code for a in listing.context["roots"]] == ["149901"]
    assert {a.name for a in county.context["children"]} == {"城关镇", "东冶乡"}
    for area in (village_a, village_b):
        assert client.get(reverse("area_detail", args=[area.code])).status_code == 200
