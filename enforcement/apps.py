from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "enforcement"
    verbose_name = "Law enforcement"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the alert digest task by name, where enforcement.alerts finds it.
        from enforcement import tasks  # noqa: F401
