from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    """Teams, volunteers, pairings, activities, visits and follow-ups. What the hub
    shows of them (archive sections, dashboard cards, navigation, audit verb labels,
    scopes, imports, role permissions) is registered here, one hook module per concern
    (volunteers/hooks/)."""

    name = "volunteers"
    verbose_name = "志愿服务"

    def ready(self) -> None:
        from aidcases import roles
        from volunteers import hooks, scoping

        scoping.register()
        hooks.register_all()
        roles.register_app_permissions(
            "volunteers",
            {
                roles.Role.ADMIN: roles.ALL_ACTIONS,
                roles.Role.COUNTY_STAFF: ("add", "change", "view"),
                roles.Role.APPROVER: ("view",),
                roles.Role.TOWNSHIP_OFFICER: ("add", "change", "view"),
                roles.Role.TEAM_LEADER: ("add", "change", "view"),
                roles.Role.AUDITOR: ("view",),
            },
        )
