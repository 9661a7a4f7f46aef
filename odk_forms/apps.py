from django.apps import AppConfig


class OdkFormsConfig(AppConfig):
    name = "odk_forms"
    verbose_name = "ODK forms and submissions"

    def ready(self) -> None:
        # checks registers the system checks; tasks registers the processing task by name,
        # where odk_forms.processing finds it.
        from odk_forms import checks, tasks  # noqa: F401

    def start_serving(self) -> None:
        """Called by fieldkit.wsgi in each serving process: without a broker, submissions are
        processed by a thread of this process."""
        from odk_forms.processing import start_background_worker

        start_background_worker()
