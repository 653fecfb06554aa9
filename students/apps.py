from django.apps import AppConfig


class StudentsConfig(AppConfig):
    """困难学生 and 留守儿童 profiles, schools, 一校一清册 (filled by later issues)."""

    name = "students"
    verbose_name = "学生与留守儿童"
