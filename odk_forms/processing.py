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

import logging
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

from odk_forms import storage, xform

if TYPE_CHECKING:
    from odk_forms.models import Submission

logger = logging.getLogger(__name__)

Processor = Callable[["Submission", bytes], None]


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


def enqueue(submission_id: int) -> None:
    """Hand a submission to the processing task. Called after commit: a broker that is down,
    or a task that fails in eager mode, never turns the phone's success into an error; the
    submission stays `received` and `process_submissions` picks it up later."""
    from odk_forms.tasks import process_submission_task

    try:
        process_submission_task.delay(submission_id)
    except Exception:
        logger.exception("Could not queue submission %s for processing", submission_id)
