from django.apps import AppConfig


class StudentsConfig(AppConfig):
    """困难学生 and 留守儿童 profiles, schools, 一校一清册; the students sections
    of the 一人一档 archive are registered here."""

    name = "students"
    verbose_name = "学生与留守儿童"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        import students.people_import  # noqa: F401  (registers the roster imports)
        from aidcases.audit import register_verbs
        from students import archive, demo  # noqa: F401  (demo registers the demo seeder)

        archive.register_sections()
        register_verbs({"school.update": _("修改学校")})
