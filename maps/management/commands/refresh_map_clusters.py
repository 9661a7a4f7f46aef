from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from maps import clusters


class Command(BaseCommand):
    help = (
        "Count the observations per map cluster cell again (maps.clusters), from the "
        "generalised points: after a bulk import, or after sensitivity rules changed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        rows = clusters.rebuild()
        self.stdout.write(f"{rows:,} cluster counts in {time.perf_counter() - started:.1f} s")
