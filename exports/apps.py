from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the job task by name, where exports.jobs finds it.
        from exports import tasks  # noqa: F401
