from django.apps import AppConfig


class StudentsConfig(AppConfig):
    """困难学生 and 留守儿童 profiles, schools, 一校一清册. What the hub shows of
    them (archive sections, people-list filters, navigation, audit verb labels,
    role permissions) is registered here."""

    name = "students"
    verbose_name = "学生与留守儿童"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        import students.imports  # noqa: F401  (registers the student and left-behind rosters)
        from aidcases import case_details, context_processors, roles
        from aidcases.audit import register_verbs
        from aidcases.context_processors import register_nav
        from students import (
            archive,
            demo,  # noqa: F401  (registers the demo seeder)
            people_filters,
            selectors,
        )

        archive.register_sections()
        case_details.register(selectors.case_school_details)
        people_filters.register()
        register_nav(
            "school_list",
            _("学校"),
            "aidcases.view_person",
            order=30,
            group=context_processors.PEOPLE,
        )
        register_verbs({"school.create": _("新增学校"), "school.update": _("修改学校")})
        roles.register_app_permissions(
            "students",
            {
                roles.Role.ADMIN: roles.ALL_ACTIONS,
                roles.Role.COUNTY_STAFF: ("add", "change", "view"),
                roles.Role.APPROVER: ("view",),
                roles.Role.TOWNSHIP_OFFICER: ("add", "change", "view"),
                roles.Role.AUDITOR: ("view",),
            },
        )
