"""What happens to a submission after the phone got its answer.

For now processing reads the instance and records its metadata. Apps that turn submissions
into their own records (observations, patrols) add a processor to
settings.ODK_FORMS_SUBMISSION_PROCESSORS: a dotted path to a callable
`(submission: Submission, xml: bytes) -> None`. Processors run in order inside one
transaction; one raising marks the submission failed, with the error, and rolls back what
the others wrote, so a fixed processor can run the submission again from scratch.
Processors must therefore be idempotent: a submission can be processed more than once
(split uploads, retries, reprocessing).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from fieldkit import errors
from odk_forms import storage, xform
from odk_forms.models import ProcessingState, Submission

logger = logging.getLogger(__name__)

Processor = Callable[[Submission, bytes], None]


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


PROCESS_TASK = "odk_forms.process_submission"


def enqueue(submission_id: int) -> None:
    """Hand a submission to the processing task. Called after commit: a broker that is down,
    or a task that fails in eager mode, never turns the phone's success into an error; the
    submission stays `received` and `process_submissions` picks it up later.

    The task is found by name in Celery's registry (odk_forms.tasks registers it), so this
    module does not import the module that imports it."""
    try:
        current_app.tasks[PROCESS_TASK].delay(submission_id)
    except Exception:
        logger.exception("Could not queue submission %s for processing", submission_id)




def process_submission(submission_id: int) -> str | None:
    """Process a received submission; return its new state, or None if it was not claimed.

    The work is claimed with a conditional UPDATE, so two workers handed the same id never
    both process it. Failures are recorded on the submission, which stays stored and can be
    processed again with reprocess_submission().
    """
    claimed = Submission.objects.filter(pk=submission_id, state=ProcessingState.RECEIVED).update(
        state=ProcessingState.PROCESSING, processing_attempts=F("processing_attempts") + 1
    )
    if not claimed:
        return None
    submission = (
        Submission.objects.select_related("form_version").defer("form_version__xml").get(pk=submission_id)
    )
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


def _finish(
    submission: Submission, attempt: int, state: str, error: str, metadata: dict[str, Any] | None = None
) -> bool:
    values: dict[str, Any] = {"state": state, "processing_error": error, "processed_at": timezone.now()}
    if metadata is not None:
        values["metadata"] = metadata
    return bool(
        Submission.objects.filter(
            pk=submission.pk, state=ProcessingState.PROCESSING, processing_attempts=attempt
        ).update(**values)
    )


def reprocess_submission(submission: Submission, *, force: bool = False) -> bool:
    """Queue a submission for processing again (after a fix, or after decryption).

    Without `force`, one being processed right now is left alone; with it (for a worker that
    died mid-way), it is reset too."""
    states = [ProcessingState.FAILED, ProcessingState.PROCESSED, ProcessingState.NEEDS_KEY]
    if force:
        states.append(ProcessingState.PROCESSING)
    reset = Submission.objects.filter(pk=submission.pk, state__in=states).update(
        state=ProcessingState.RECEIVED, processing_error=""
    )
    if reset:
        transaction.on_commit(lambda: enqueue(submission.pk))
    return bool(reset)
