"""Team activities: back-fill, future dates, participants, photos, scoped photo download."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from aidcases.models import AuditEvent
from tests.volunteers.factories import make_team, make_volunteer
from volunteers import services
from volunteers.models import Activity, ActivityPhoto, Membership

TODAY = date(2026, 5, 20)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


def jpeg_with_gps(name="活动.jpg") -> SimpleUploadedFile:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (39.0, 54.0, 27.5)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def team(township_a, leader):
    return make_team(township_a, leader=leader)


@pytest.fixture
def member(team, village_a):
    volunteer = make_volunteer(village_a, name="李青", team=team)
    Membership.objects.filter(volunteer=volunteer).update(started_on=date(2026, 1, 1))
    return volunteer


def record(user, team, **fields):
    fields.setdefault("date", TODAY - timedelta(days=2))
    fields.setdefault("kind", Activity.Kind.FIVE_CARES)
    fields.setdefault("content", "走访五保户")
    return services.activity_record(acting_user=user, team=team, **fields)


def test_leader_records_an_activity_of_their_team(leader, team, member):
    activity = record(leader, team, participants=[member])
    assert not activity.backfilled
    assert list(activity.participants.all()) == [member]
    event = AuditEvent.objects.get(verb="activity.create")
    assert event.area == team.area and event.details["participants"] == 1


def test_entry_within_thirty_days_is_not_backfilled(leader, team):
    assert not record(leader, team, date=TODAY - timedelta(days=30)).backfilled


def test_late_entry_is_backfilled_and_needs_a_reason(leader, team):
    with pytest.raises(ValidationError) as exc:
        record(leader, team, date=TODAY - timedelta(days=31))
    assert "补录原因" in exc.value.message_dict["backfill_reason"][0]
    activity = record(leader, team, date=TODAY - timedelta(days=31), backfill_reason="纸质记录后补")
    assert activity.backfilled and activity.backfill_reason == "纸质记录后补"


def test_future_date_is_refused(leader, team):
    with pytest.raises(ValidationError) as exc:
        record(leader, team, date=TODAY + timedelta(days=1))
    assert "date" in exc.value.message_dict


def test_participants_must_be_members_on_the_day(leader, team, member, village_a):
    outsider = make_volunteer(village_a, name="外人")
    with pytest.raises(ValidationError) as exc:
        record(leader, team, participants=[member, outsider])
    assert "外人" in exc.value.message_dict["participants"][0]
    with pytest.raises(ValidationError):
        record(leader, team, date=date(2025, 12, 31), backfill_reason="补", participants=[member])
    Membership.objects.filter(volunteer=member).update(ended_on=TODAY - timedelta(days=5))
    with pytest.raises(ValidationError):
        record(leader, team, date=TODAY - timedelta(days=2), participants=[member])
    assert record(leader, team, date=TODAY - timedelta(days=6), participants=[member])


def test_end_time_before_start_is_refused(leader, team):
    from datetime import time

    with pytest.raises(ValidationError):
        record(leader, team, starts_at=time(10), ends_at=time(9))


def test_leader_cannot_record_for_a_team_they_do_not_lead(leader, township_a):
    other = make_team(township_a, name="别的队")
    with pytest.raises(PermissionDenied):
        record(leader, other)


def test_auditor_cannot_record(auditor, team):
    with pytest.raises(PermissionDenied):
        record(auditor, team)


def test_photos_are_cleaned_of_gps(leader, team):
    activity = record(leader, team, photos=[jpeg_with_gps()])
    photo = ActivityPhoto.objects.get(activity=activity)
    with photo.file.open("rb") as handle:
        stored = Image.open(handle)
        assert not stored.getexif().get_ifd(0x8825)
    assert photo.content_type == "image/jpeg" and photo.original_name == "活动.jpg"


def test_a_non_image_photo_stores_nothing(leader, team):
    bogus = SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")
    with pytest.raises(ValidationError):
        record(leader, team, photos=[bogus])
    assert not Activity.objects.exists() and not ActivityPhoto.objects.exists()


def test_photo_download_is_scoped_and_audited(client_for, leader, officer_b, team):
    activity = record(leader, team, photos=[jpeg_with_gps()])
    photo = activity.photos.get()
    url = reverse("activity_photo", args=[photo.pk])
    assert client_for(officer_b).get(url).status_code == 404
    response = client_for(leader).get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(verb="activity.photo_download", actor=leader).count() == 1


def test_inline_photo_views_are_audited_once_per_ten_minutes(client_for, leader, team):
    photo = record(leader, team, photos=[jpeg_with_gps()]).photos.get()
    client = client_for(leader)
    url = reverse("activity_photo", args=[photo.pk]) + "?inline=1"
    client.get(url)
    client.get(url)
    assert AuditEvent.objects.filter(verb="activity.photo_download").count() == 1


def test_service_hours_sum_durations_where_participant(officer_a, team, member):
    from datetime import time

    from volunteers.selectors import teams as selectors

    record(officer_a, team, participants=[member], starts_at=time(9), ends_at=time(11, 30))
    record(officer_a, team, participants=[member], date=TODAY - timedelta(days=3))
    record(officer_a, team, starts_at=time(9), ends_at=time(17), date=TODAY - timedelta(days=4))
    assert selectors.volunteer_service_hours(user=officer_a, volunteer=member) == (2.5, 2)


def test_activity_form_page_records_with_photo(client_for, leader, team, member):
    client = client_for(leader)
    response = client.post(
        reverse("activity_create", args=[team.pk]),
        {
            "date": "2026-05-18",
            "kind": Activity.Kind.FIVE_CARES,
            "content": "帮收玉米",
            "participants": [member.pk],
            "photos": [jpeg_with_gps("a.jpg"), jpeg_with_gps("b.jpg")],
        },
    )
    activity = Activity.objects.get()
    assert response.status_code == 302 and response["Location"] == activity.get_absolute_url()
    assert activity.photos.count() == 2
    page = client.get(activity.get_absolute_url())
    assert "帮收玉米" in page.content.decode()


def test_activity_form_keeps_input_and_explains_backfill(client_for, leader, team):
    response = client_for(leader).post(
        reverse("activity_create", args=[team.pk]),
        {"date": "2026-03-01", "kind": Activity.Kind.OTHER, "content": "旧活动"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "补录原因" in html and "旧活动" in html
