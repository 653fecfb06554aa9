"""URL-walk entries for the notification centre: township B's officer's notification is
theirs only (another user — even of a county role — gets 404, as if it did not exist)."""

from __future__ import annotations

from tests.urlwalk import ObjectUrl

OBJECT_URLS = {
    "notification_read": ObjectUrl(
        lambda w: {"pk": w.notification_b.pk}, method="post", owner_status=302
    ),
}


def extend_world(world) -> None:
    from aidcases.models import Notification

    # 东冶乡 in the title: the list-page leak walk looks for it in every page of township A
    world.notification_b = Notification.objects.create(
        recipient=world.officer_b,
        kind="team-activity",
        title="东冶乡服务队2026年第四季度尚未开展团队活动",
        body="东冶乡服务队在本季度还没有记录团队活动。",
        link="/teams/",
    )
