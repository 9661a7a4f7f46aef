"""Process submissions still waiting, or again after a fix, now and in this process:

    manage.py process_submissions [--failed] [--stuck] [--form XML_FORM_ID] [--limit N]

Waiting ones and those whose worker died (their lease ran out) are also found by the sweep
(Celery beat, or the background thread without a broker); this command does not wait for it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Q
from django.utils import timezone

from odk_forms import processing
from odk_forms.models import ProcessingState, Submission


class Command(BaseCommand):
    help = (
        "Process received submissions, and those whose worker died (lease run out), now, in this "
        "process; on request failed ones too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--failed", action="store_true", help="Also retry failed submissions.")
        parser.add_argument(
            "--stuck",
            action="store_true",
            help="Also take submissions being processed whose lease has not run out yet (only when "
            "every worker is known to be stopped).",
        )
        parser.add_argument("--form", help="Only this form (its form ID).")
        parser.add_argument("--limit", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        # A lease that ran out: its worker died. Without one (claimed by an older version).
        taken = Q(state=ProcessingState.PROCESSING) & (Q(lease_expires__lt=now) | Q(lease_expires=None))
        if options["stuck"]:
            taken = Q(state=ProcessingState.PROCESSING)
        wanted = Q(state=ProcessingState.RECEIVED) | taken
        if options["failed"]:
            wanted |= Q(state=ProcessingState.FAILED)
        submissions = Submission.objects.filter(wanted).order_by("received_at")
        if options["form"]:
            submissions = submissions.filter(form__xml_form_id=options["form"])
        ids = list(submissions.values_list("id", flat=True)[: options["limit"]])
        # Reset first, with the same conditions, so a live worker's claim made meanwhile is
        # respected.
        Submission.objects.filter(wanted, id__in=ids).exclude(state=ProcessingState.RECEIVED).update(
            state=ProcessingState.RECEIVED, processing_error="", lease_expires=None, leases_lost=0
        )
        counts: dict[str, int] = {}
        for submission_id in ids:
            state = processing.process_submission(submission_id) or "skipped"
            counts[state] = counts.get(state, 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"{len(ids)} submission(s): {summary}")
