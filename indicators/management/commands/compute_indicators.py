"""python manage.py compute_indicators [--area ID ...] [--since YYYY-MM-DD] [--workers N]"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from indicators import compute, grid
from protected_areas.models import ProtectedArea


class Command(BaseCommand):
    help = (
        "Recompute the stored indicators of every area (or those given), shared among --workers"
        " processes, one transaction each."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", type=int, action="append", dest="areas", help="area id (repeatable)")
        parser.add_argument("--since", type=date.fromisoformat, help="first day to recompute (YYYY-MM-DD)")
        parser.add_argument("--workers", type=int, default=1, help="processes sharing the areas (default 1)")

    def handle(
        self, *args: Any, areas: list[int] | None, since: date | None, workers: int, **options: Any
    ) -> None:
        started = time.monotonic()
        ids = areas or list(ProtectedArea.objects.order_by("pk").values_list("pk", flat=True))
        grid.ensure_grids(ids)
        compute.compute_areas(ids, since, workers=workers)
        self.stdout.write(f"Indicators of {len(ids)} area(s) computed in {time.monotonic() - started:.1f} s")
