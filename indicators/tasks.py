"""Celery tasks of indicators, registered by name (indicators.incremental.UPDATE_TASK)."""

from __future__ import annotations

from typing import Any

from celery import current_app, shared_task
from django.db import close_old_connections

from indicators import compute, grid, incremental
from protected_areas.models import ProtectedArea

NIGHTLY_TASK = "indicators.nightly"
AREA_TASK = "indicators.compute_area"


@shared_task(name=incremental.UPDATE_TASK, bind=True, ignore_result=True, acks_late=True)
def update_task(self: Any) -> int:
    """Recompute the dirty area-months (claimed, so several workers share a burst)."""
    if not self.request.is_eager:
        close_old_connections()
    return incremental.update()


@shared_task(name=AREA_TASK, bind=True, ignore_result=True, acks_late=True)
def compute_area_task(self: Any, area_id: int) -> None:
    """Recompute every indicator of one area (the nightly run hands out one per area)."""
    if not self.request.is_eager:
        close_old_connections()
    grid.ensure_grids([area_id])
    compute.compute_full([area_id])


@shared_task(name=NIGHTLY_TASK, bind=True, ignore_result=True)
def nightly_task(self: Any) -> None:
    """Full recomputation, partitioned by area so that every worker takes a share; catches
    what no submission marks (a taxon's IUCN category changed, an area's boundary)."""
    for area_id in ProtectedArea.objects.order_by("pk").values_list("pk", flat=True):
        current_app.tasks[AREA_TASK].delay(area_id)
