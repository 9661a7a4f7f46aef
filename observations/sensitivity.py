"""Sensitive species: the level of each observation and the point each user may see.

The ONE place every output asks (admin pages, the API, photos, and the tiles, exports and
pages to come): `located(observation, user_view)` gives the point as it may be shown, with
its uncertainty and the Darwin Core texts that say what was done.

A record's level is the strictest of its taxon's own sensitivity and the rules for that
taxon in the record's area and nationally (SensitivityRule: a rule raises, never lowers).
It is computed in the database as an annotation (`with_levels`), so a list costs no extra
query per row. Whoever holds VIEW_EXACT_SENSITIVE_LOCATIONS in the record's area sees the
exact point, and that viewing is audited (accounts.access.record_access); everyone else
gets the centre of the level's grid cell (accounts.generalisation), or nothing when the
level withholds the location.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest

from accounts import access
from accounts.access import Capability
from accounts.generalisation import STRICTNESS, Generalised, Sensitivity, generalise, withheld
from observations.models import Observation, SensitivityRule

_LEVEL_OF_RANK = {rank: level for level, rank in STRICTNESS.items()}


def _rank(field: str) -> Case:
    """STRICTNESS in SQL: OPEN is 0, the others 5 − level (LOW 1 … EXTREME 4)."""
    return Case(
        When(**{field: Sensitivity.OPEN}, then=Value(0)),
        default=Value(5) - F(field),
        output_field=IntegerField(),
    )


def with_levels(observations: QuerySet[Observation]) -> QuerySet[Observation]:
    """`observations` annotated with `sensitivity_rank` (accounts.generalisation.STRICTNESS
    of the effective level), computed by the database."""
    rules = (
        SensitivityRule.objects.filter(taxon=OuterRef("species__taxon"))
        .filter(Q(national=True) | Q(area=OuterRef("area")))
        .annotate(rank=_rank("level"))
        .order_by("-rank")
        .values("rank")[:1]
    )
    return observations.annotate(
        sensitivity_rank=Greatest(
            Coalesce(_rank("species__taxon__sensitivity"), Value(0)),
            Coalesce(Subquery(rules, output_field=IntegerField()), Value(0)),
        )
    )


def effective_level(observation: Observation) -> int:
    """The level of one observation: from the `with_levels` annotation when present."""
    rank = getattr(observation, "sensitivity_rank", None)
    if rank is None:
        levels: Any = with_levels(Observation.objects.filter(pk=observation.pk))
        rank = levels.values_list("sensitivity_rank", flat=True).first()
    return _LEVEL_OF_RANK[rank or 0]


def _holds(area_ids: frozenset[int] | None, area_id: int | None) -> bool:
    return area_ids is None or (area_id is not None and area_id in area_ids)


@dataclass(frozen=True)
class UserView:
    """What one user may see of a record's location and personal fields, decided once for a
    whole list (three queries): for each capability, the areas where the user holds it
    (None: every area)."""

    by_capability: dict[Capability, frozenset[int] | None]

    @classmethod
    def of(cls, user: Any) -> UserView:
        caps = {Capability.VIEW_EXACT_SENSITIVE_LOCATIONS, *access.PERSONAL_FIELDS.values()}
        return cls({cap: access.area_ids_with(user, cap) for cap in caps})

    def sees_exact(self, area_id: int | None) -> bool:
        return _holds(self.by_capability[Capability.VIEW_EXACT_SENSITIVE_LOCATIONS], area_id)

    def reads(self, field: str, area_id: int | None) -> bool:
        """Whether the personal field `field` (a key of accounts.access.PERSONAL_FIELDS) of a
        record of `area_id` is open to the user."""
        return _holds(self.by_capability[access.PERSONAL_FIELDS[field]], area_id)


def located(observation: Observation, view: UserView) -> Generalised:
    """The observation's point as `view` may see it: exact for an open record or a user
    with the right in its area; else generalised to its level's grid cell, or withheld."""
    level = effective_level(observation)
    point = observation.location
    if point is None:
        return Generalised(None, None, None, level)
    if level == Sensitivity.OPEN or view.sees_exact(observation.area_id):
        # The level is kept, so that callers know the point is a sensitive one.
        return Generalised(point.x, point.y, observation.accuracy_m, level)
    if level == Sensitivity.EXTREME:
        return withheld(level)
    return generalise(point.x, point.y, level, observation.accuracy_m)


def exact_sensitive(shown: Generalised) -> bool:
    """Whether `shown` is the exact point of a sensitive record: what the audit records."""
    return shown.level != Sensitivity.OPEN and shown.lon is not None and not shown.data_generalizations
