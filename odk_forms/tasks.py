"""Celery tasks of odk_forms, registered by name (odk_forms.processing.PROCESS_TASK, SWEEP_TASK)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import close_old_connections

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
    # The worker keeps its connection between tasks (CELERY_DB_REUSE_MAX): drop it first if
    # the server closed it or it outlived CONN_MAX_AGE, as Django does between requests.
    # Eager tasks run inside their caller's connection and transaction: leave those alone.
    if not self.request.is_eager:
        close_old_connections()
    state = processing.process_submission(submission_id)
    busy = state == ProcessingState.RECEIVED
    if busy and not self.request.is_eager and self.request.retries < BUSY_RETRIES:
        # The database was busy: try again shortly rather than hold the worker.
        raise self.retry(countdown=2**self.request.retries)
    return state


@shared_task(name=processing.SWEEP_TASK, bind=True, ignore_result=True)
def sweep_submissions_task(self: Any) -> None:
    if not self.request.is_eager:
        close_old_connections()
    processing.sweep()
