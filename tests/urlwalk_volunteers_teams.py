"""URL-walk entries for teams, volunteers, memberships and team activities (township B's)."""

from __future__ import annotations

from tests.urlwalk import ObjectUrl, ParamUrl

OBJECT_URLS = {
    "team_detail": ObjectUrl(lambda w: {"pk": w.vteams_team_b.pk}),
    "team_edit": ObjectUrl(lambda w: {"pk": w.vteams_team_b.pk}),
    "team_member_add": ObjectUrl(lambda w: {"pk": w.vteams_team_b.pk}),
    "activity_create": ObjectUrl(lambda w: {"pk": w.vteams_team_b.pk}),
    "team_member_end": ObjectUrl(lambda w: {"pk": w.vteams_membership_b.pk}),
    "volunteer_detail": ObjectUrl(lambda w: {"pk": w.vteams_volunteer_b.pk}),
    "volunteer_edit": ObjectUrl(lambda w: {"pk": w.vteams_volunteer_b.pk}),
    "volunteer_reveal": ObjectUrl(lambda w: {"pk": w.vteams_volunteer_b.pk}, method="post"),
    "activity_detail": ObjectUrl(lambda w: {"pk": w.vteams_activity_b.pk}),
    "activity_photo": ObjectUrl(lambda w: {"pk": w.vteams_photo_b.pk}),
}

PAGE_URLS = {}

PARAM_URLS = [
    # registering a volunteer into township B's team, named in the link
    ParamUrl("volunteer_create", lambda w, pick: {"team": pick(w.vteams_team_b.pk)}),
    # the roster upload naming township B's team: as if the team did not exist
    ParamUrl(
        "import_start",
        lambda w, pick: {"team": pick(w.vteams_team_b.pk)},
        method="post",
        kwargs=lambda w: {"kind": "team_roster"},
        statuses=(404,),
    ),
]


def extend_world(world) -> None:
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from tests.volunteers.factories import make_team, make_volunteer
    from volunteers.models import Activity, ActivityPhoto, Membership

    team = make_team(world.township_b, name="东冶乡关爱特困人员青年志愿服务队")
    volunteer = make_volunteer(world.village_b, name="孙东冶", team=team, phone="13812345678")
    world.vteams_team_b = team
    world.vteams_volunteer_b = volunteer
    world.vteams_membership_b = Membership.objects.get(team=team, volunteer=volunteer)
    activity = Activity.objects.create(
        team=team,
        date=timezone.localdate() - timedelta(days=3),
        kind=Activity.Kind.FIVE_CARES,
        content="东冶乡走访",
        entered_by=world.officer_b,
    )
    activity.participants.add(volunteer)
    world.vteams_activity_b = activity
    photo = ActivityPhoto(
        activity=activity,
        original_name="东冶.png",
        content_type="image/png",
        extension=".png",
        size=4,
        sha256="0" * 64,
        uploaded_by=world.officer_b,
    )
    photo.file.save("photo.png", ContentFile(b"\x89PNG"), save=False)
    photo.save()
    world.vteams_photo_b = photo
