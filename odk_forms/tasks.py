"""Celery tasks of odk_forms, registered by name (odk_forms.processing.PROCESS_TASK, SWEEP_TASK)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from odk_forms import processing
from odk_forms.models import ProcessingState

# Tries of a submission the database was too busy to process; then the sweep takes over.
BUSY_RETRIES = 5


@shared_task(
    name=processing.PROCESS_TASK,
    bind=True,
    ignore_result=True,
    # Acknowledged when done, and put back in the queue if the worker process dies under it.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=BUSY_RETRIES,
)
def process_submission_task(self: Any, submission_id: int) -> str | None:
    state = processing.process_submission(submission_id)
    busy = state == ProcessingState.RECEIVED
    if busy and not self.request.is_eager and self.request.retries < BUSY_RETRIES:
        # The database was busy: try again shortly rather than hold the worker.
        raise self.retry(countdown=2**self.request.retries)
    return state


@shared_task(name=processing.SWEEP_TASK, ignore_result=True)
def sweep_submissions_task() -> None:
    processing.sweep()
