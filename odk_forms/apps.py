from django.apps import AppConfig


class OdkFormsConfig(AppConfig):
    name = "odk_forms"
    verbose_name = "ODK forms and submissions"

    def ready(self) -> None:
        # Registers the processing task by name: odk_forms.processing finds it there.
        from odk_forms import (
            checks,  # noqa: F401  (registers the system checks)
            tasks,  # noqa: F401
        )
