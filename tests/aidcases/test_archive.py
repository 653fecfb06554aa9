"""The 一人一档 page: header, hub sections, masking and reveal, audit, history, registry."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aidcases import archive, pii, services
from aidcases.archive import hub_sections
from aidcases.models import AidCase, AuditEvent, Person, PersonRelation
from aidcases.services import PersonData
from tests.factories import make_id_number, make_person

ID_NUMBER = make_id_number(date(2011, 3, 9), female=True)
PHONE = "13912345678"
GUARDIAN_PHONE = "13700001111"


@pytest.fixture
def person(village_a) -> Person:
    return make_person(
        village_a,
        name="赵熙晨",
        id_number=ID_NUMBER,
        phone=PHONE,
        address="南街村二组12号",
        guardian_name="赵大山",
        guardian_relationship="父亲",
        guardian_phone=GUARDIAN_PHONE,
        notes="父母在外务工",
        category="left_behind",
    )


def page(client, person: Person) -> str:
    response = client.get(reverse("person_detail", args=[person.pk]))
    assert response.status_code == 200
    return response.content.decode()


def section_html(html: str, key: str) -> str:
    match = re.search(rf'<section[^>]*data-section="{key}".*?</section>', html, re.S)
    assert match, f"section {key} not on the page"
    return match.group(0)


def data_from(person: Person, **changes) -> PersonData:
    values = {
        "name": person.name,
        "area": person.area,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "phone": person.phone,
        "address": person.address,
        "guardian_name": person.guardian_name,
        "guardian_relationship": person.guardian_relationship,
        "guardian_phone": person.guardian_phone,
        "notes": person.notes,
    }
    values.update(changes)
    return PersonData(**values)


# --- the page --------------------------------------------------------------------


def test_header_shows_who_where_and_guardian(client_for, officer_a, person):
    html = page(client_for(officer_a), person)
    header = re.search(r'<section[^>]*id="archive-header".*?</section>', html, re.S).group(0)

    assert "赵熙晨" in header and "女" in header and "2011年3月9日出生" in header
    assert "青山县城关镇南街村" in header
    assert "南街村二组12号" in header
    assert "赵大山" in header and "（父亲）" in header
    assert "父母在外务工" in header
    assert "有效" in header


def test_hub_sections_appear_in_order(client_for, officer_a, person):
    html = page(client_for(officer_a), person)

    titles = ["身份与家庭", "帮扶档案", "附件", "变更记录", "查阅记录"]
    positions = [html.index(f">{t}</h2>") for t in titles]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    "category,label", [("student", "困难学生"), ("tekun", "特困人员"), ("left_behind", "留守儿童")]
)
def test_cases_section_shows_each_category(client_for, officer_a, village_a, category, label):
    person = make_person(village_a, name="钱多多")
    services.case_open(
        acting_user=officer_a,
        person=person,
        category=category,
        hardship_level="special",
        flags=["dibao", "orphan"],
        opened_on=date(2025, 9, 1),
    )

    cases = section_html(page(client_for(officer_a), person), "cases")

    assert label in cases and "在册" in cases and "特别困难" in cases
    assert "低保" in cases and "孤儿" in cases
    assert "2025-09-01" in cases


def test_tekun_case_shows_its_profile_with_masked_cadre_phone(client_for, officer_a, village_a):
    person = make_person(village_a, name="孙老汉", category="tekun", birth=date(1950, 1, 1))
    services.tekun_profile_save(
        acting_user=officer_a,
        case=person.cases.get(),
        support_mode="dispersed",
        health="高血压",
        lives_alone=True,
        responsible_cadre="李村长",
        responsible_cadre_phone="13811112222",
    )

    cases = section_html(page(client_for(officer_a), person), "cases")

    assert "分散供养" in cases and "高血压" in cases and "李村长" in cases
    assert "138****2222" in cases and "13811112222" not in cases


def test_closed_case_shows_date_and_reason(client_for, officer_a, person):
    services.case_close(
        acting_user=officer_a,
        case=person.cases.get(),
        closed_on=timezone.localdate(),
        reason="父母返乡",
    )

    cases = section_html(page(client_for(officer_a), person), "cases")

    assert "已结案" in cases and "父母返乡" in cases


def test_case_buttons_are_for_editors_only(client_for, officer_a, leader, person):
    case = person.cases.get()
    edit = f"/cases/{case.pk}/edit/"
    close = f"/cases/{case.pk}/close/"
    create = f"/people/{person.pk}/cases/new/"

    editor = section_html(page(client_for(officer_a), person), "cases")
    reader = section_html(page(client_for(leader), person), "cases")

    assert edit in editor and close in editor and create in editor
    assert edit not in reader and close not in reader and create not in reader


def test_a_closed_case_has_no_edit_or_close_button(officer_a, person):
    case = person.cases.get()
    services.case_close(
        acting_user=officer_a, case=case, closed_on=timezone.localdate(), reason="父母返乡"
    )

    data = hub_sections.cases_context(person, officer_a)

    assert data["create_url"] == f"/people/{person.pk}/cases/new/"
    assert data["rows"][0]["edit_url"] is None and data["rows"][0]["close_url"] is None


def test_household_members_are_listed_with_masked_phones(
    client_for, officer_a, person, village_a, village_b
):
    sister = make_person(village_a, name="赵小妹")
    far_cousin = make_person(village_b, name="钱远亲")
    PersonRelation.objects.create(person=person, kind="other", related_person=far_cousin)
    PersonRelation.objects.create(person=person, kind="sibling", related_person=sister)
    PersonRelation.objects.create(person=person, kind="mother", name="王秀英", phone="13655556666")

    identity = section_html(page(client_for(officer_a), person), "identity")

    # Family order, whatever the order of entry.
    assert identity.index("王秀英") < identity.index("赵小妹") < identity.index("钱远亲")

    assert "母亲" in identity and "王秀英" in identity
    assert "136****6666" in identity and "13655556666" not in identity
    assert f'href="/people/{sister.pk}/"' in identity
    # Township B's record is named but not linked for township A's officer.
    assert "钱远亲" in identity and f"/people/{far_cousin.pk}/" not in identity


def test_officer_of_another_township_gets_404(client_for, officer_b, person):
    response = client_for(officer_b).get(reverse("person_detail", args=[person.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(verb="person.view").exists()


def test_merged_record_points_to_the_surviving_one(client_for, officer_a, village_a):
    keep = make_person(village_a, name="周杰", no_id_reason="户口未登记", gender="male")
    drop = make_person(village_a, name="周杰", no_id_reason="户口未登记", gender="male")
    # The state person_merge leaves behind (set directly: this test is about the page).
    Person.objects.filter(pk=drop.pk).update(is_active=False, merged_into=keep)

    html = page(client_for(officer_a), drop)

    assert "已合并" in html
    assert f'<a href="/people/{keep.pk}/">周杰</a>' in html


def test_deactivated_record_says_so(client_for, officer_a, person):
    services.person_set_active(acting_user=officer_a, person=person, active=False, reason="迁出")
    assert "本记录已停用" in page(client_for(officer_a), person)


def test_page_query_count_does_not_grow_with_cases_members_or_files(
    client_for, officer_a, village_a
):
    from aidcases import services
    from tests.aidcases.test_attachments import PDF, upload

    def build(name: str, n: int) -> Person:
        p = make_person(village_a, name=name)
        for i in range(n):
            case = services.case_open(acting_user=officer_a, person=p, category="tekun")
            services.tekun_profile_save(acting_user=officer_a, case=case, health=f"病{i}")
            if i < n - 1:
                services.case_close(
                    acting_user=officer_a, case=case, closed_on=timezone.localdate(), reason="好转"
                )
            PersonRelation.objects.create(person=p, kind="other", name=f"亲属{i}", phone=PHONE)
            services.attachment_add(
                acting_user=officer_a,
                person=p,
                upload=upload(PDF + str(i).encode(), f"{i}.pdf"),
                kind="document",
                title=f"证明{i}",
            )
        services.person_update(acting_user=officer_a, person=p, data=data_from(p, notes="改"))
        return p

    small, large = build("甲", 1), build("乙", 6)
    client = client_for(officer_a)
    counts = []
    for p in (small, large):
        page(client, p)  # the first view writes its audit row; compare the steady state
        with CaptureQueriesContext(connection) as ctx:
            page(client, p)
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts


# --- masking and reveal ------------------------------------------------------------


def test_page_never_contains_the_clear_id_number_or_phones(client_for, officer_a, person):
    html = page(client_for(officer_a), person)

    assert ID_NUMBER not in html and ID_NUMBER[6:14] not in html  # nor the birth date digits
    assert PHONE not in html and GUARDIAN_PHONE not in html
    assert pii.mask_id_number(ID_NUMBER) in html
    assert "139****5678" in html and "137****1111" in html
    assert person.id_number_encrypted not in html


def test_reveal_id_number_returns_it_audited_and_uncached(client_for, officer_a, person):
    response = client_for(officer_a).post(
        reverse("person_reveal", args=[person.pk, "id_number"]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert ID_NUMBER in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(verb="person.reveal")
    assert event.actor == officer_a and event.details == {"field": "id_number"}
    assert event.object_id == str(person.pk)


@pytest.mark.parametrize("field,value", [("phone", PHONE), ("guardian_phone", GUARDIAN_PHONE)])
def test_reveal_phones(client_for, officer_a, person, field, value):
    response = client_for(officer_a).post(reverse("person_reveal", args=[person.pk, field]))
    assert value in response.content.decode()
    assert AuditEvent.objects.get(verb="person.reveal").details == {"field": field}


def test_team_leader_may_reveal_phone_but_not_id_number(client_for, leader, person):
    client = client_for(leader)

    refused = client.post(reverse("person_reveal", args=[person.pk, "id_number"]))
    allowed = client.post(reverse("person_reveal", args=[person.pk, "phone"]))

    assert refused.status_code == 403 and ID_NUMBER not in refused.content.decode()
    assert allowed.status_code == 200 and PHONE in allowed.content.decode()
    assert list(AuditEvent.objects.filter(verb="person.reveal").values_list("details", flat=True))
    assert AuditEvent.objects.filter(verb="person.reveal").count() == 1


def test_reveal_buttons_follow_the_role(client_for, officer_a, leader, person):
    officer_html = page(client_for(officer_a), person)
    leader_html = page(client_for(leader), person)

    assert 'data-testid="reveal-id_number"' in officer_html
    assert 'data-testid="reveal-id_number"' not in leader_html
    assert 'data-testid="reveal-phone"' in leader_html
    assert 'data-testid="reveal-guardian_phone"' in leader_html


def test_reveal_of_an_unknown_field_is_404(client_for, officer_a, person):
    response = client_for(officer_a).post(reverse("person_reveal", args=[person.pk, "address"]))
    assert response.status_code == 404


def test_reveal_needs_post(client_for, officer_a, person):
    response = client_for(officer_a).get(reverse("person_reveal", args=[person.pk, "phone"]))
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(verb="person.reveal").exists()


# --- audit of views and the viewers section -------------------------------------------


def test_opening_the_page_is_audited_once_per_ten_minutes(
    client_for, officer_a, person, monkeypatch
):
    client = client_for(officer_a)
    page(client, person)
    page(client, person)
    assert AuditEvent.objects.filter(verb="person.view", actor=officer_a).count() == 1

    later = timezone.now() + timedelta(minutes=11)
    monkeypatch.setattr(timezone, "now", lambda: later)
    page(client, person)

    events = AuditEvent.objects.filter(verb="person.view", object_id=str(person.pk))
    assert events.count() == 2
    assert events.first().area == person.area


def test_each_viewer_is_audited_separately(client_for, officer_a, county_staff, person):
    page(client_for(officer_a), person)
    page(client_for(county_staff), person)
    assert AuditEvent.objects.filter(verb="person.view").count() == 2


def test_viewers_section_lists_views_reveals_and_downloads(
    client_for, officer_a, county_staff, person
):
    from aidcases import services
    from tests.aidcases.test_attachments import PDF, upload

    attachment = services.attachment_add(
        acting_user=officer_a, person=person, upload=upload(PDF, "a.pdf"), kind="document",
        title="低保证",
    )  # fmt: skip
    staff = client_for(county_staff)
    page(staff, person)
    staff.post(reverse("person_reveal", args=[person.pk, "id_number"]))
    staff.get(reverse("attachment_download", args=[attachment.pk]))

    viewers = section_html(page(client_for(officer_a), person), "viewers")

    assert viewers.count(str(county_staff)) == 3
    assert "查看一人一档" in viewers
    assert "查看完整证件号/电话" in viewers and "身份证号码" in viewers
    assert "下载附件" in viewers and "低保证" in viewers


def test_viewers_section_shows_the_newest_fifty(officer_a, person):
    for _ in range(55):
        services.person_record_view(acting_user=officer_a, person=person)

    events = hub_sections.viewer_events(person)

    assert len(events) == 50
    assert events[0].at >= events[-1].at


def test_viewers_of_another_person_are_not_listed(officer_a, person, village_a):
    other = make_person(village_a, name="李四")
    services.person_record_view(acting_user=officer_a, person=other)
    assert hub_sections.viewer_events(person) == []


# --- history -----------------------------------------------------------------------


def test_history_shows_an_update_with_its_actor_and_never_the_ciphertext(
    client_for, officer_a, person
):
    old_cipher, old_hash = person.id_number_encrypted, person.id_number_hash
    new_id = make_id_number(date(2011, 3, 9), female=True)
    services.person_update(
        acting_user=officer_a,
        person=person,
        data=data_from(person, address="南街村三组8号", id_number=new_id, phone="13600001234"),
    )
    person.refresh_from_db()

    history = section_html(page(client_for(officer_a), person), "history")

    assert str(officer_a) in history
    assert "详细地址：南街村二组12号 → 南街村三组8号" in history
    assert "联系电话：139****5678 → 136****1234" in history
    assert "身份证号码已修改" in history
    for secret in (old_cipher, old_hash, person.id_number_encrypted, person.id_number_hash):
        assert secret not in history
    assert new_id not in history and ID_NUMBER not in history
    assert "13600001234" not in history and PHONE not in history
    assert "id_number" not in history


def test_history_shows_registration_cases_and_relations(client_for, officer_a, person):
    case = person.cases.get()
    services.case_update(acting_user=officer_a, case=case, hardship_level="hard", flags=["dibao"])
    PersonRelation.objects.create(person=person, kind="mother", name="王秀英")

    history = section_html(page(client_for(officer_a), person), "history")

    assert "登记建档" in history
    assert "新建“留守儿童”档案" in history
    assert "认定等级：（空） → 比较困难" in history and "困难类型：（空） → 低保" in history
    assert "新增家庭成员：母亲 王秀英" in history


def test_history_shows_area_names_not_ids(client_for, officer_a, person, township_a):
    from tests.factories import child_area

    other_village = child_area(township_a, "202", "北街村", "village")
    services.person_update(
        acting_user=officer_a, person=person, data=data_from(person, area=other_village)
    )
    person.refresh_from_db()

    history = section_html(page(client_for(officer_a), person), "history")

    assert "所在村(社区)：南街村 → 北街村" in history


def test_history_leaves_out_another_persons_household_rows(officer_a, person, village_a):
    other = make_person(village_a, name="李四")
    PersonRelation.objects.create(person=other, kind="other", related_person=person)

    rows = hub_sections.history_rows(person)

    assert not [r for r in rows if r.what == "家庭成员"]


def test_history_and_viewers_are_hidden_from_team_leaders(client_for, leader, person):
    html = page(client_for(leader), person)

    assert 'data-section="history"' not in html and 'data-section="viewers"' not in html
    assert 'data-section="cases"' in html


def test_auditor_sees_history_and_viewers_but_no_edit_controls(client_for, auditor, person):
    html = page(client_for(auditor), person)

    assert 'data-section="history"' in html and 'data-section="viewers"' in html
    assert 'data-testid="attachment-upload"' not in html
    assert f"/people/{person.pk}/edit/" not in html


# --- the section registry -------------------------------------------------------------


@pytest.fixture
def dummy_sections():
    dummies = [
        archive.Section(
            "test_aid",
            "测试受助记录",
            "aidcases/archive/_generic.html",
            lambda person, user: [("发放金额", f"{person.name}：500元")],
            order=30,
        ),
        archive.Section(
            "test_empty", "测试空分区", "aidcases/archive/_generic.html", lambda p, u: [], 40
        ),
        archive.Section(
            "test_hidden", "测试隐藏分区", "aidcases/archive/_generic.html", lambda p, u: None, 50
        ),
    ]
    for s in dummies:
        archive.register(s)
    yield dummies
    for s in dummies:
        archive.unregister(s.key)


def test_registered_sections_render_in_their_order(client_for, officer_a, person, dummy_sections):
    html = page(client_for(officer_a), person)

    aid = section_html(html, "test_aid")
    assert "发放金额" in aid and "赵熙晨：500元" in aid
    assert (
        html.index(">帮扶档案</h2>") < html.index(">测试受助记录</h2>") < html.index(">附件</h2>")
    )


def test_a_section_with_nothing_to_show_still_renders_its_title(
    client_for, officer_a, person, dummy_sections
):
    empty = section_html(page(client_for(officer_a), person), "test_empty")

    assert "测试空分区" in empty and "暂无记录" in empty


def test_a_section_returning_none_is_hidden(client_for, officer_a, person, dummy_sections):
    assert "测试隐藏分区" not in page(client_for(officer_a), person)


def test_registering_a_different_section_under_a_taken_key_fails(dummy_sections):
    with pytest.raises(ValueError, match="registered twice"):
        archive.register(
            archive.Section("test_aid", "别的", "aidcases/archive/_generic.html", lambda p, u: [])
        )


def test_unregistered_sections_are_gone(client_for, officer_a, person, dummy_sections):
    archive.unregister("test_aid")
    assert "测试受助记录" not in page(client_for(officer_a), person)


# --- print -----------------------------------------------------------------------------


def test_print_stylesheet_and_button_are_on_the_page(client_for, officer_a, person):
    html = page(client_for(officer_a), person)

    assert re.search(
        r'<link rel="stylesheet" href="/static/aidcases/print\.css" media="print"', html
    )
    assert 'data-action="print"' in html and "打印" in html
    assert '<script src="/static/aidcases/archive.js" defer></script>' in html
    assert "一人一档 · 赵熙晨" in html  # the print-only header


def test_page_has_no_inline_script_or_style(client_for, officer_a, person):
    html = page(client_for(officer_a), person)

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_print_stylesheet_sets_a4_and_page_breaks():
    from django.contrib.staticfiles import finders

    css = open(finders.find("aidcases/print.css"), encoding="utf-8").read()
    assert "size: A4" in css
    assert "break-before: page" in css
    assert ".btn" in css and "form" in css and "nav" in css


def test_cases_of_other_categories_do_not_need_profiles(officer_a, person):
    data = hub_sections.cases_context(person, officer_a)
    assert [r["case"].category for r in data["rows"]] == [AidCase.Category.LEFT_BEHIND]
    assert data["rows"][0]["profile"] is None
