from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    """Teams, volunteers, pairings, activities, visits and follow-ups (later issues)."""

    name = "volunteers"
    verbose_name = "志愿服务"
