"""Process submissions still waiting (a broker that was down, a worker that died), or
again after a fix:

    manage.py process_submissions [--failed] [--stuck] [--form XML_FORM_ID] [--limit N]
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from odk_forms import processing
from odk_forms.models import ProcessingState, Submission


class Command(BaseCommand):
    help = "Process received submissions (and, on request, failed or stuck ones) now, in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--failed", action="store_true", help="Also retry failed submissions.")
        parser.add_argument(
            "--stuck", action="store_true", help="Also reset submissions left 'processing' by a dead worker."
        )
        parser.add_argument("--form", help="Only this form (its form ID).")
        parser.add_argument("--limit", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        states = [ProcessingState.RECEIVED]
        if options["failed"]:
            states.append(ProcessingState.FAILED)
        if options["stuck"]:
            states.append(ProcessingState.PROCESSING)
        submissions = Submission.objects.filter(state__in=states).order_by("received_at")
        if options["form"]:
            submissions = submissions.filter(form__xml_form_id=options["form"])
        ids = list(submissions.values_list("id", flat=True)[: options["limit"]])
        # Reset first (conditional, so a live worker's claim is respected unless --stuck).
        Submission.objects.filter(id__in=ids).exclude(state=ProcessingState.RECEIVED).update(
            state=ProcessingState.RECEIVED, processing_error=""
        )
        counts: dict[str, int] = {}
        for submission_id in ids:
            state = processing.process_submission(submission_id) or "skipped"
            counts[state] = counts.get(state, 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"{len(ids)} submission(s): {summary}")
