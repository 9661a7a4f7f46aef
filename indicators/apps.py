from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = "Indicators"

    def ready(self) -> None:
        # Registers the update task by name, where indicators.incremental finds it.
        from indicators import tasks  # noqa: F401

    def start_serving(self) -> None:
        """Called by fieldkit.wsgi in each serving process: without a broker, dirty keys are
        recomputed by a thread of this process (a look at start-up finds those left behind)."""
        from indicators.incremental import start_background_worker

        start_background_worker()
