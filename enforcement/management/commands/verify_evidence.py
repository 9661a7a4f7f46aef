"""python manage.py verify_evidence [--case UUID] [--published-head SEQ:HASH ...]

Recomputes the evidence ledger and rehashes the files it records; names the first entry
that does not match and exits with status 1, else prints the head verified."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from enforcement import ledger, verification


class Command(BaseCommand):
    help = "Verify the evidence ledger and the files it records; name the first entry that does not match."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", help="rehash only this case's files (the chain is checked whole)")
        parser.add_argument(
            "--published-head",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a head published earlier (ledger_head); may be given more than once",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            published = [ledger.Head.parse(text) for text in options["published_head"]]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        subjects = None
        if options["case"]:
            subjects = _case_subjects(options["case"])
        result = verification.verify(published=published, subjects=subjects)
        if result.problem is not None:
            self.stderr.write(f"FAILED at {result.problem}")
            raise SystemExit(1)
        self.stdout.write(
            f"OK: {result.checked} entries, {result.files} files, {result.heads} heads confirmed; "
            f"head {result.head}"
        )


def _case_subjects(case_id: str) -> list[str]:
    """The ledger subjects of a case: the case itself and its exhibits."""
    from enforcement.models import Case, Exhibit

    try:
        case = Case.objects.get(uuid=case_id)
    except (Case.DoesNotExist, ValueError, ValidationError):
        raise CommandError(f"no case {case_id}") from None
    exhibits = Exhibit.objects.filter(case=case).values_list("uuid", flat=True)
    return [case.subject, *(f"exhibit:{uuid}" for uuid in exhibits)]
