"""Celery tasks of odk_forms, registered by name (odk_forms.processing.PROCESS_TASK)."""

from __future__ import annotations

from celery import shared_task

from odk_forms import processing


@shared_task(name=processing.PROCESS_TASK, ignore_result=True)
def process_submission_task(submission_id: int) -> str | None:
    return processing.process_submission(submission_id)
