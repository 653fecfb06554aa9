from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AidcasesConfig(AppConfig):
    name = "aidcases"
    verbose_name = "帮扶对象管理"

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals

        from aidcases import (  # noqa: F401  (registers job kinds, seeders, archive sections)
            area_import,
            demo,
            exports,
            jobs,
            signals,
            tasks,
        )
        from aidcases.archive import hub_sections  # noqa: F401  (registers them)
        from aidcases.people import exports as people_exports  # noqa: F401  (its job kind)
        from aidcases.people import imports as people_imports  # noqa: F401  (an import kind)

        jobs.set_runner(lambda job_id: tasks.run_job.delay(job_id))

        auth_signals.user_logged_in.connect(signals.on_login, dispatch_uid="aidcases_login")
        auth_signals.user_logged_out.connect(signals.on_logout, dispatch_uid="aidcases_logout")
        auth_signals.user_login_failed.connect(
            signals.on_login_failed, dispatch_uid="aidcases_login_failed"
        )
        post_migrate.connect(signals.on_post_migrate, dispatch_uid="aidcases_sync_roles")
