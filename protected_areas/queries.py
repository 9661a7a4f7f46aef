"""Every query of areas and zones goes through here, scoped to what the user may see.

Boundaries and zones are public reference data (WDPA publishes them); the functions still
take the user so that per-area restrictions land in one place.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from protected_areas.models import ProtectedArea, Zone


def areas_visible_to(user: Any) -> QuerySet[ProtectedArea]:
    return ProtectedArea.objects.all()


def zones_visible_to(user: Any) -> QuerySet[Zone]:
    return Zone.objects.filter(area__in=areas_visible_to(user))
