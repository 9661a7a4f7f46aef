"""python manage.py ledger_head: prints the head of the evidence ledger as SEQ:HASH, the line
to publish (a monthly report, say) so that a later rewrite of the chain can be detected
(verify_evidence --published-head SEQ:HASH)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from enforcement import evidence


class Command(BaseCommand):
    help = "Print the head of the evidence ledger (SEQ:HASH), to publish."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(evidence.current_head()))
