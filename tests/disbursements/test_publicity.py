"""The 公示: printable page and Excel, with exactly the public columns, nothing personal
beyond them, and children's names masked."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aidcases import pii
from aidcases.models import AidCase, AuditEvent
from disbursements import exports, services
from tests.factories import make_person

pytestmark = pytest.mark.django_db

HEADER = ["序号", "姓名", "学校或村", "年级", "资助项目", "档次", "金额"]


@pytest.fixture
def published(walk, students, village_a, county_staff, officer_a):
    """A batch in publicity with one child under 14 (黄小涵, born 2015) beside the three
    14-year-olds of the walk; every person has a phone, an address and an ID."""
    for case in students:
        case.person.phone = "13912345678"
        case.person.address = "南街村幸福巷8号"
        case.person.save(update_fields=["phone", "address"])
    child = make_person(
        village_a,
        name="黄小涵",
        birth=date(2015, 3, 1),
        category=AidCase.Category.STUDENT,
        phone="13800138000",
        address="南街村和平路1号",
    )
    batch = walk("verified")
    line = services.line_add(acting_user=officer_a, batch=batch, case=child.cases.get())
    services.line_verify(acting_user=county_staff, line=line, method="phone")
    services.batch_lock(acting_user=county_staff, batch=batch)
    return batch, child


def _sheet(response):
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def test_the_publicity_excel_has_exactly_the_public_columns(published, client_for, county_staff):
    batch, child = published
    response = client_for(county_staff).get(reverse("batch_publicity_xlsx", args=[batch.pk]))
    assert response.status_code == 200
    rows = _sheet(response)
    title, header, *data = rows
    assert header == HEADER
    assert len(data) == 4
    text = "\n".join(str(c) for row in rows for c in row if c is not None)
    people = [line.person for line in batch.lines.select_related("person")]
    forbidden = ["身份证", "电话号码", "住址", "地址", "银行", "卡号", "出生", "困难原因"]
    forbidden += [pii.decrypt(p.id_number_encrypted) for p in people]
    forbidden += [p.id_number_encrypted[:10] for p in people]
    forbidden += ["13912345678", "13800138000", "幸福巷", "和平路", "2015-03-01", "2012-05-17"]
    forbidden += [p.masked_id_number for p in people]
    assert [f for f in forbidden if f in text] == []
    assert AuditEvent.objects.filter(verb="batch.publicity_export").count() == 1


def test_children_under_14_are_masked(published, client_for, county_staff):
    batch, _child = published
    rows = _sheet(client_for(county_staff).get(reverse("batch_publicity_xlsx", args=[batch.pk])))
    names = {row[1] for row in rows[2:]}
    assert names == {"黄*涵", "赵小明", "钱小红", "孙小刚"}


def test_masking_follows_the_setting(published, client_for, county_staff, settings):
    batch, _child = published
    settings.PUBLICITY_MASK_UNDER_AGE = 15
    rows = _sheet(client_for(county_staff).get(reverse("batch_publicity_xlsx", args=[batch.pk])))
    assert {row[1] for row in rows[2:]} == {"黄*涵", "赵*明", "钱*红", "孙*刚"}
    settings.PUBLICITY_MASK_UNDER_AGE = 0
    rows = _sheet(client_for(county_staff).get(reverse("batch_publicity_xlsx", args=[batch.pk])))
    assert "黄小涵" in {row[1] for row in rows[2:]}


def test_mask_name_keeps_first_and_last():
    assert exports.mask_name("张涵") == "张*"
    assert exports.mask_name("张小涵") == "张*涵"
    assert exports.mask_name("欧阳小涵") == "欧**涵"


def test_the_publicity_dates_phone_and_issuer_are_in_the_file(walk, client_for, county_staff):
    batch = walk("in_publicity")
    rows = _sheet(client_for(county_staff).get(reverse("batch_publicity_xlsx", args=[batch.pk])))
    title = rows[0][0]
    assert "2026年10月12日至2026年10月16日" in title
    assert "0350-1234567" in title and "共青团青山县委" in title


def test_the_print_page_shows_the_list_masked_and_nothing_personal(
    published, client_for, county_staff
):
    batch, child = published
    response = client_for(county_staff).get(reverse("batch_publicity", args=[batch.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "黄*涵" in html and "黄小涵" not in html
    assert "13800138000" not in html and "和平路" not in html
    assert "batch-publicity-print.css" in html


def test_no_publicity_before_the_list_is_locked(walk, client_for, county_staff):
    batch = walk("verifying")
    response = client_for(county_staff).get(reverse("batch_publicity_xlsx", args=[batch.pk]))
    assert response.status_code == 302


def test_a_township_officer_gets_only_their_townships_lines(published, client_for, officer_b):
    batch, _child = published
    rows = _sheet(client_for(officer_b).get(reverse("batch_publicity_xlsx", args=[batch.pk])))
    assert rows[2:] == []


def test_the_publicity_excel_opens_and_prints_in_libreoffice(
    published, client_for, county_staff, tmp_path
):
    from tests.libreoffice import pdf_of

    batch, _child = published
    response = client_for(county_staff).get(reverse("batch_publicity_xlsx", args=[batch.pk]))

    pdf_of(response.content, tmp_path, "公示")
