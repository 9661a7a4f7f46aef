"""What happens to a submission after the phone got its answer.

For now processing reads the instance and records its metadata. Apps that turn submissions
into their own records (observations, patrols) add a processor to
settings.ODK_FORMS_SUBMISSION_PROCESSORS: a dotted path to a callable
`(submission: Submission, xml: bytes) -> None`. Processors run in order inside one
transaction; one raising marks the submission failed, with the error, and rolls back what
the others wrote, so a fixed processor can run the submission again from scratch.
Processors must therefore be idempotent: a submission can be processed more than once
(split uploads, retries, reprocessing).

Who runs it: a Celery worker, when there is a broker; without one, a worker thread of the
serving process (odk_forms.background), so the phone never waits for processing either.

Nothing gets stuck. A worker claims a submission with a lease (ODK_FORMS_PROCESSING_LEASE);
one killed mid-way leaves its transaction rolled back and its lease running out, and the
sweep (Celery beat, or the background thread) hands the submission out again. The sweep
also queues submissions that wait unqueued (a broker that was down, a process that exited
with work in memory), and a phone re-sending a stuck record queues it at once. A busy
database (SQLite's single writer, a PostgreSQL deadlock) releases the claim to be tried
again, never marks the submission failed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from fieldkit import db, errors
from odk_forms import background, storage, xform
from odk_forms.models import ProcessingState, Submission

logger = logging.getLogger(__name__)

Processor = Callable[[Submission, bytes], None]

PROCESS_TASK = "odk_forms.process_submission"
SWEEP_TASK = "odk_forms.sweep_submissions"
# At most this many submissions handed out again per sweep: the next sweep takes the rest.
SWEEP_BATCH = 1000


@cache
def _load(path: str) -> Processor:
    return import_string(path)  # type: ignore[no-any-return]


def processors() -> list[Processor]:
    return [_load(path) for path in settings.ODK_FORMS_SUBMISSION_PROCESSORS]


def instance_xml(submission: Submission) -> bytes:
    """The readable instance: the decrypted one for encrypted submissions."""
    if submission.is_encrypted:
        return storage.read_bytes(submission.decrypted_xml.name)
    return storage.read_bytes(submission.xml_file.name)


def run(submission: Submission) -> dict[str, Any]:
    """Process one submission (the caller holds the claim and the transaction); return
    the metadata to record."""
    xml = instance_xml(submission)
    instance = xform.parse_instance(xml)
    expected = instance.referenced_files(submission.form_version.binary_paths)
    present = set(submission.attachments.values_list("name", flat=True))
    metadata = {
        "instance_name": instance.instance_name,
        "attachments_expected": len(expected),
        "attachments_present": len(expected & present),
        "attachments_missing": sorted(expected - present),
    }
    for processor in processors():
        processor(submission, xml)
    return metadata


def lease() -> timedelta:
    return timedelta(seconds=settings.ODK_FORMS_PROCESSING_LEASE)


# --- Handing work out ---------------------------------------------------------------------------


def enqueue(submission_id: int) -> None:
    """Hand a submission to whoever processes it. Called after commit: a broker that is
    down, or a task that fails in eager mode, never turns the phone's success into an
    error; the submission stays `received` and the sweep queues it again later.

    Without a broker (Celery eager) the background thread takes it, unless
    ODK_FORMS_BACKGROUND_PROCESSING is off: then it runs here and now. The task is found by
    name in Celery's registry (odk_forms.tasks registers it), so this module does not
    import the module that imports it."""
    if current_app.conf.task_always_eager and settings.ODK_FORMS_BACKGROUND_PROCESSING:
        background_worker().submit(submission_id)
        return
    try:
        current_app.tasks[PROCESS_TASK].delay(submission_id)
    except Exception:
        logger.exception("Could not queue submission %s for processing", submission_id)


def requeue_if_stuck(submission_id: int) -> bool:
    """Queue a submission that a phone sent again with nothing new, if it is stuck: still
    waiting (it was never queued, or its queue was lost) or held by a lease that ran out
    (its worker died). Call it after commit. Returns whether it was queued."""
    now = timezone.now()
    state = Submission.objects.filter(pk=submission_id).values_list("state", flat=True).first()
    if state == ProcessingState.RECEIVED:
        # Queued twice at worst: the second run finds it claimed or done, and does nothing.
        transaction.on_commit(lambda: enqueue(submission_id))
        return True
    if state == ProcessingState.PROCESSING:
        return _recover(submission_id, now) == ProcessingState.RECEIVED
    return False


@dataclass
class SweepReport:
    requeued: int = 0  # leases that ran out, handed out again
    failed: int = 0  # leases that ran out once too often
    queued: int = 0  # waiting submissions queued again


def sweep(*, all_waiting: bool = False) -> SweepReport:
    """Find lost work and hand it out again: submissions whose lease ran out (their worker
    died, or hangs), and submissions left `received` for longer than a lease without being
    queued again (a broker that was down, a process that exited with work in memory).

    `all_waiting` queues every `received` submission at once: for a worker that starts
    with an empty queue in memory (the background thread after a restart)."""
    now = timezone.now()
    report = SweepReport()
    for pk in _expired(Submission.objects.all(), now).values_list("pk", flat=True)[:SWEEP_BATCH]:
        outcome = _recover(pk, now)
        report.requeued += outcome == ProcessingState.RECEIVED
        report.failed += outcome == ProcessingState.FAILED
    waiting = Submission.objects.filter(state=ProcessingState.RECEIVED)
    if not all_waiting:
        # The lease of a waiting submission is the time its queue is given: the submission
        # is queued again once it has waited a lease, then once per lease.
        waiting = waiting.filter(received_at__lt=now - lease()).filter(
            Q(lease_expires=None) | Q(lease_expires__lt=now)
        )
    ids = list(waiting.order_by("received_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    if ids:
        Submission.objects.filter(pk__in=ids, state=ProcessingState.RECEIVED).update(
            lease_expires=now + lease()
        )
        for pk in ids:
            transaction.on_commit(lambda pk=pk: enqueue(pk))  # type: ignore[misc]
    report.queued = len(ids)
    if report.requeued or report.failed or report.queued:
        logger.info(
            "Sweep: %d lease(s) ran out and handed out again, %d failed for good, %d waiting queued",
            report.requeued,
            report.failed,
            report.queued,
        )
    return report


def _expired(submissions: QuerySet[Submission], now: datetime) -> QuerySet[Submission]:
    # No lease at all: claimed before leases existed, or by a worker that set none.
    return submissions.filter(state=ProcessingState.PROCESSING).filter(
        Q(lease_expires__lt=now) | Q(lease_expires=None)
    )


def _recover(submission_id: int, now: datetime) -> str | None:
    """Take back a submission whose lease ran out; queue it again, or fail it if it lost
    too many leases in a row. Conditional, so a live worker's claim is never taken."""
    expired = _expired(Submission.objects.filter(pk=submission_id), now)
    limit = settings.ODK_FORMS_PROCESSING_MAX_LOST_LEASES
    problem = errors.PROCESSING_INTERRUPTED(times=limit)
    if expired.filter(leases_lost__gte=limit - 1).update(
        state=ProcessingState.FAILED,
        processing_error=f"{problem.code} {problem.message}",
        processed_at=now,
        lease_expires=None,
        leases_lost=F("leases_lost") + 1,
    ):
        logger.error("Submission %s: processing interrupted %d times, marked failed", submission_id, limit)
        return ProcessingState.FAILED
    if expired.update(
        state=ProcessingState.RECEIVED, lease_expires=now + lease(), leases_lost=F("leases_lost") + 1
    ):
        logger.warning("Submission %s: its processing lease ran out; queued again", submission_id)
        transaction.on_commit(lambda: enqueue(submission_id))
        return ProcessingState.RECEIVED
    return None


# --- Processing ---------------------------------------------------------------------------------


def process_submission(submission_id: int) -> str | None:
    """Process a received submission; return its new state, or None if it was not claimed.

    The work is claimed with a conditional UPDATE, so two workers handed the same id never
    both process it, and with a lease, so a dead worker's claim runs out. Failures are
    recorded on the submission, which stays stored and can be processed again with
    reprocess_submission(). A busy database is not a failure: the claim is released and
    `received` returned, for the caller to try again later.
    """
    try:
        claimed = Submission.objects.filter(pk=submission_id, state=ProcessingState.RECEIVED).update(
            state=ProcessingState.PROCESSING,
            processing_attempts=F("processing_attempts") + 1,
            lease_expires=timezone.now() + lease(),
        )
    except DatabaseError as exc:
        if not db.is_transient(exc):
            raise
        logger.info("Submission %s waits: the database is busy (%s)", submission_id, exc)
        return ProcessingState.RECEIVED
    if not claimed:
        return None
    try:
        submission = (
            Submission.objects.select_related("form_version").defer("form_version__xml").get(pk=submission_id)
        )
    except DatabaseError as exc:
        if not db.is_transient(exc):
            raise
        return _release(submission_id, None, exc)
    attempt = submission.processing_attempts
    if submission.is_encrypted and not submission.decrypted_xml:
        # Nothing can be read before decryption; decrypt_submissions fills decrypted_xml and
        # calls reprocess_submission().
        _finish(submission, attempt, ProcessingState.NEEDS_KEY, "Encrypted: waiting for decryption.")
        return ProcessingState.NEEDS_KEY
    try:
        # One transaction for the processors' writes and the final state; without
        # processors the single UPDATE needs none.
        with transaction.atomic() if processors() else contextlib.nullcontext():
            metadata = run(submission)
            done = _finish(submission, attempt, ProcessingState.PROCESSED, "", metadata)
            if not done:
                # Reset meanwhile (new attachments arrived): the next run does the work.
                raise _Superseded
    except _Superseded:
        return None
    except Exception as exc:
        if isinstance(exc, DatabaseError) and db.is_transient(exc):
            return _release(submission_id, attempt, exc)
        logger.warning("Processing submission %s failed", submission_id, exc_info=True)
        # Catalogued problems keep their code, so an admin can look the error up.
        error = (
            f"{exc.code} {exc.message}" if isinstance(exc, errors.Problem) else f"{type(exc).__name__}: {exc}"
        )
        _finish(submission, attempt, ProcessingState.FAILED, error)
        return ProcessingState.FAILED
    return ProcessingState.PROCESSED


class _Superseded(Exception):
    pass


def _release(submission_id: int, attempt: int | None, exc: Exception) -> str:
    """Give a claim back after a transient database error; if even that fails, the lease
    runs out and the sweep does it."""
    logger.info("Submission %s waits: the database is busy (%s)", submission_id, exc)
    claim = Submission.objects.filter(pk=submission_id, state=ProcessingState.PROCESSING)
    if attempt is not None:
        claim = claim.filter(processing_attempts=attempt)
    try:
        claim.update(state=ProcessingState.RECEIVED, lease_expires=None)
    except DatabaseError:
        logger.warning("Submission %s: claim not released; its lease will run out", submission_id)
    return ProcessingState.RECEIVED


def _finish(
    submission: Submission, attempt: int, state: str, error: str, metadata: dict[str, Any] | None = None
) -> bool:
    values: dict[str, Any] = {
        "state": state,
        "processing_error": error,
        "processed_at": timezone.now(),
        "lease_expires": None,
        "leases_lost": 0,
    }
    if metadata is not None:
        values["metadata"] = metadata
    return bool(
        Submission.objects.filter(
            pk=submission.pk, state=ProcessingState.PROCESSING, processing_attempts=attempt
        ).update(**values)
    )


def reprocess_submission(submission: Submission, *, force: bool = False) -> bool:
    """Queue a submission for processing again (after a fix, or after decryption).

    Without `force`, one being processed right now is left alone (unless its lease ran
    out); with it (for a worker known to be dead), it is reset too."""
    states = [ProcessingState.FAILED, ProcessingState.PROCESSED, ProcessingState.NEEDS_KEY]
    candidates = Q(state__in=states)
    if force:
        candidates |= Q(state=ProcessingState.PROCESSING)
    else:
        candidates |= Q(state=ProcessingState.PROCESSING) & (
            Q(lease_expires__lt=timezone.now()) | Q(lease_expires=None)
        )
    reset = Submission.objects.filter(candidates, pk=submission.pk).update(
        state=ProcessingState.RECEIVED, processing_error="", lease_expires=None, leases_lost=0
    )
    if reset:
        transaction.on_commit(lambda: enqueue(submission.pk))
    return bool(reset)


# --- Without a broker ---------------------------------------------------------------------------

# Seconds before a submission is tried again after the database said busy.
BUSY_RETRY_SECONDS = 0.5


def _process_in_background(submission_id: int) -> float | None:
    if process_submission(submission_id) == ProcessingState.RECEIVED:
        return BUSY_RETRY_SECONDS
    return None


_worker = background.Worker(
    "fieldkit-processing",
    _process_in_background,
    # A thread that starts has nothing in memory: its first sweep queues every waiting one.
    lambda first: sweep(all_waiting=first),
    lambda: float(settings.ODK_FORMS_SWEEP_INTERVAL),
)


def background_worker() -> background.Worker:
    """The background processing thread of this process (started on first use)."""
    return _worker


def start_background_worker() -> None:
    """Start processing in the background when there is no broker: for the web server at
    start-up, so work left by a previous run is found before the first new submission."""
    if current_app.conf.task_always_eager and settings.ODK_FORMS_BACKGROUND_PROCESSING:
        _worker.start()
