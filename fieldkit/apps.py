from django.apps import AppConfig


class FieldkitConfig(AppConfig):
    name = "fieldkit"

    def ready(self) -> None:
        from fieldkit import checks  # noqa: F401  (registers the system checks)
