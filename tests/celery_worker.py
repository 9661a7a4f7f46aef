"""A Celery worker (prefork, with beat) in a process of its own, for tests that kill it:

    python -m tests.celery_worker [celery worker options]

Its processors are ODK_FORMS_SUBMISSION_PROCESSORS plus `gate` at the end, which notes
each run in FIELDKIT_TEST_MARKERS/attempt-N (the pid of the process running it) and makes
the first run hang, so that a test can kill the process in the middle of processing.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import django


def gate(submission: object, xml: bytes) -> None:
    attempt = submission.processing_attempts  # type: ignore[attr-defined]
    (Path(os.environ["FIELDKIT_TEST_MARKERS"]) / f"attempt-{attempt}").write_text(str(os.getpid()))
    if attempt == 1:
        # The processors before this one have written their records in the transaction.
        time.sleep(120)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldkit.settings")
    django.setup()
    from django.conf import settings

    from fieldkit.celery import app

    settings.ODK_FORMS_SUBMISSION_PROCESSORS = [
        *settings.ODK_FORMS_SUBMISSION_PROCESSORS,
        "tests.celery_worker.gate",
    ]
    app.worker_main(["worker", *sys.argv[1:]])


if __name__ == "__main__":
    main()
