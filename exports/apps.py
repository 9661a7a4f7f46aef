from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The tasks register with Celery; jobs queue them by name (exports.jobs.RUN_TASK).
        from exports import tasks  # noqa: F401
