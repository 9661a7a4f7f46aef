from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from observations import reference
from observations.models import Taxon


class Command(BaseCommand):
    help = "Sync the category tree and species list into the database; optionally add taxa from a taxa.csv."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--taxa-csv", type=Path, help="a species list in the standard forms' taxa.csv layout"
        )

    def handle(self, *args: Any, taxa_csv: Path | None = None, **options: Any) -> None:
        with transaction.atomic():
            categories, taxa = reference.sync_reference_data()
            self.stdout.write(f"{categories} categories and {taxa} curated taxa synced")
            if taxa_csv is not None:
                if not taxa_csv.is_file():
                    raise CommandError(f"{taxa_csv}: no such file")
                created, updated = reference.sync_taxa_csv(Taxon, taxa_csv.read_text(encoding="utf-8"))
                self.stdout.write(f"{taxa_csv}: {created} taxa added, {updated} updated")
