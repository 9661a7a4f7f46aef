from django.apps import AppConfig


class OdkFormsConfig(AppConfig):
    name = "odk_forms"
    verbose_name = "ODK forms and submissions"

    def ready(self) -> None:
        # checks registers the system checks; tasks registers the processing task by name,
        # where odk_forms.processing finds it.
        from odk_forms import checks, tasks  # noqa: F401
