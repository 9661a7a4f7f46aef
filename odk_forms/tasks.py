from __future__ import annotations

from celery import shared_task

from odk_forms import services


@shared_task(name="odk_forms.process_submission", ignore_result=True)
def process_submission_task(submission_id: int) -> str | None:
    return services.process_submission(submission_id)
