"""Observation counts per cluster cell, kept in a table (maps.models.ClusterCount) so that
a map below street zoom reads a few thousand precomputed rows, not every point in view.

Counted from the generalised points (the centre of a sensitive record's grid cell, as
accounts.generalisation computes it), per zoom 0–CLUSTER_MAX_ZOOM, cell, area, vertical and
month: the finest zoom from the records, each coarser one from the one above it (cells nest:
a cell at zoom z is four cells at z + 1). Withheld records are counted apart, at their exact
place, for those who may see them.

Kept current by `after_submission`, a submission processor (settings
ODK_FORMS_SUBMISSION_PROCESSORS): it recounts the area-months a submission's records count
in now and counted in at its last processing (indicators.models.Footprint, read before
indicators.incremental.after_submission moves it on). `rebuild` counts everything again
(`manage.py refresh_map_clusters`, load_demo). When sensitivity rules or taxon levels change
after a rebuild, `Versions.usable` says no and the maps count live until the next rebuild.

`rows` answers a map's request from the table, through the access policy: the areas whose
records the user reads (illicit records where it reads those), withheld records only where
it sees exact locations; None when the table cannot answer (a category or taxon filter, a
period that is not whole months, stale rules), and the caller counts live.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts import access
from accounts.access import Capability
from accounts.generalisation import STRICTNESS, Sensitivity
from indicators.models import Footprint
from maps.geo import POINTS_ZOOM, Bounds, cluster_cell
from maps.models import ClusterCount, ClusterState
from maps.sql import FENCE, STX, STY, generalised_sql, ids_sql, query
from observations import sensitivity
from observations.models import Observation, SensitivityRule, Taxon, Vertical
from odk_forms.models import Submission

# Zooms the table holds; above, the maps count the few points in view live.
CLUSTER_MAX_ZOOM = POINTS_ZOOM - 1
_WITHHELD = STRICTNESS[Sensitivity.EXTREME]
_COLUMNS = "zoom, cx, cy, area_id, home_id, is_home, vertical, month, withheld, n, sx, sy"

Key = tuple[int, date | None]


@dataclass(frozen=True)
class Versions:
    """What the maps' answers depend on, read in one query: the latest submission (edits
    are new submissions), the sensitivity rules and taxon levels now, those the table was
    counted with, and when it was."""

    submission: int | None
    rules: str
    counted_with: str | None
    built_at: str | None

    @classmethod
    def now(cls) -> Versions:
        rule, taxon = SensitivityRule._meta.db_table, Taxon._meta.db_table
        sql = (
            f"SELECT (SELECT MAX(id) FROM {Submission._meta.db_table}), "  # noqa: S608 (table names)
            f"(SELECT COUNT(*) FROM {rule}), (SELECT SUM(id) FROM {rule}), "
            f"(SELECT SUM(id * level) FROM {rule}), "
            f"(SELECT COUNT(*) FROM {taxon} WHERE sensitivity <> 0), "
            f"(SELECT SUM(id * sensitivity) FROM {taxon} WHERE sensitivity <> 0), "
            f"(SELECT MAX(rules) FROM {ClusterState._meta.db_table}), "
            f"(SELECT MAX(built_at) FROM {ClusterState._meta.db_table})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            latest, *rules, counted_with, built_at = cursor.fetchone()
        return cls(latest, ".".join(map(str, rules)), counted_with, str(built_at) if built_at else None)

    @property
    def usable(self) -> bool:
        """Whether the table is built, with the rules in force now."""
        return self.counted_with == self.rules

    def key(self) -> str:
        """Changes whenever what a map shows may have changed."""
        return hashlib.sha256(f"{self.submission}|{self.rules}|{self.built_at}".encode()).hexdigest()[:16]


def usable() -> bool:
    return Versions.now().usable


@dataclass(frozen=True)
class Scopes:
    """The areas (None: every area) where a user reads records, illicit records, and exact
    locations: what its map answers depend on (three queries)."""

    records: frozenset[int] | None
    illicit: frozenset[int] | None
    exact: frozenset[int] | None

    @classmethod
    def of(cls, user: Any) -> Scopes:
        return cls(
            access.area_ids_with(user, Capability.VIEW_RECORDS),
            access.area_ids_with(user, Capability.VIEW_ILLICIT_RECORDS),
            access.area_ids_with(user, Capability.VIEW_EXACT_SENSITIVE_LOCATIONS),
        )

    def key(self) -> str:
        """Users with the same scopes get the same answers, and share cache entries."""
        text = "|".join(
            "*" if s is None else ",".join(map(str, sorted(s)))
            for s in (self.records, self.illicit, self.exact)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:24]


def _records_sql(where: str, **only: Any) -> tuple[str, list[Any]]:
    """Each located record's row per area holding it, as the table counts it: area, home
    area, vertical, month, withheld, and the generalised coordinates gx, gy. `only`: a
    filter of the records."""
    rows: Any = (
        sensitivity.with_levels(Observation.objects.filter(location__isnull=False, **only))
        .annotate(oid=F("id"), aid=F("area_id"), vert=F("vertical"), mon=TruncMonth("day"))
        .annotate(lon=STX("location"), lat=STY("location"))
        .order_by()
        .values("oid", "aid", "vert", "mon", "sensitivity_rank", "lon", "lat")
    )
    inner, params = rows.query.sql_with_params()
    exact, withheld = "t.sensitivity_rank = 0", f"t.sensitivity_rank = {_WITHHELD}"
    gx, gy = generalised_sql("lon", exact), generalised_sql("lat", exact)
    sql = (
        "SELECT p.area_id, t.aid AS home, (p.area_id = t.aid) AS is_home, "  # noqa: S608
        f"t.vert AS vertical, t.mon AS month, ({withheld}) AS withheld, "
        f"CASE WHEN {withheld} THEN t.lon ELSE {gx} END AS gx, "
        f"CASE WHEN {withheld} THEN t.lat ELSE {gy} END AS gy "
        f"FROM ({inner}{FENCE[connection.vendor]}) t "
        "JOIN observations_observationplace p ON p.observation_id = t.oid AND p.zone_id IS NULL"
        f"{where}"
    )
    return sql, list(params)


def _count(where: str, key_where: str, key_params: list[Any], **only: Any) -> None:
    """Count the records `only` and `where` pick at the finest zoom, then each coarser zoom
    from the one above (restricted by `key_where`). `where` takes the first of `key_params`
    (the area)."""
    records, params = _records_sql(where, **only)
    cell = cluster_cell(CLUSTER_MAX_ZOOM)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO maps_clustercount ({_COLUMNS}) "  # noqa: S608 (numbers and constants)
            f"SELECT {CLUSTER_MAX_ZOOM}, FLOOR(r.gx / {cell!r}), FLOOR(r.gy / {cell!r}), r.area_id, r.home, "
            "r.is_home, r.vertical, r.month, r.withheld, COUNT(*), SUM(r.gx), SUM(r.gy) "
            f"FROM ({records}) r GROUP BY 2, 3, 4, 5, 6, 7, 8, 9",
            [*params, *key_params[: where.count("%s")]],
        )
        for zoom in range(CLUSTER_MAX_ZOOM - 1, -1, -1):
            cursor.execute(
                f"INSERT INTO maps_clustercount ({_COLUMNS}) "  # noqa: S608
                f"SELECT {zoom}, FLOOR(cx / 2.0), FLOOR(cy / 2.0), area_id, home_id, is_home, vertical, "
                "month, withheld, SUM(n), SUM(sx), SUM(sy) FROM maps_clustercount "
                f"WHERE zoom = {zoom + 1}{key_where} GROUP BY 2, 3, 4, 5, 6, 7, 8, 9",
                key_params,
            )


@transaction.atomic
def rebuild() -> int:
    """Count every record again; returns the number of rows written."""
    ClusterCount.objects.all().delete()
    _count("", "", [])
    ClusterState.objects.all().delete()
    ClusterState.objects.create(rules=Versions.now().rules, built_at=timezone.now())
    if connection.vendor == "postgresql":
        # Fresh statistics, else the planner guesses at a table it has never seen.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE maps_clustercount")
    return ClusterCount.objects.count()


def _month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def recount(keys: set[Key]) -> None:
    """Count again the records of each (area, month) key (month None: records without a
    day)."""
    for area, month in sorted(keys, key=lambda k: (k[0], k[1] or date.min)):
        if month is None:
            ClusterCount.objects.filter(area_id=area, month__isnull=True).delete()
            _count(" WHERE p.area_id = %s", " AND area_id = %s AND month IS NULL", [area], day=None)
            continue
        ClusterCount.objects.filter(area_id=area, month=month).delete()
        # The records of the month by their day (indexed), the rolled-up rows by month.
        _count(
            " WHERE p.area_id = %s",
            " AND area_id = %s AND month = %s",
            [area, month],
            day__gte=month,
            day__lte=_month_end(month),
        )


def _keys_now(root: int) -> set[Key]:
    rows = (
        Observation.objects.filter(root_submission_id=root, location__isnull=False, places__zone=None)
        .annotate(mon=TruncMonth("day"))
        .values_list("places__area_id", "mon")
        .distinct()
    )
    return {(int(area), _as_date(month)) for area, month in rows}


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def after_submission(submission: Submission, xml: bytes) -> None:
    """Submission processor: recount what the submission's records count in, now and at
    their last processing. Nothing while the table is not built."""
    if not ClusterState.objects.exists():
        return
    root = submission.root_id or submission.pk
    before = set(Footprint.objects.filter(root_submission_id=root).values_list("area_id", "month"))
    recount(_keys_now(root) | {(int(a), _as_date(m)) for a, m in before})


def _whole_months(since: date | None, until: date | None) -> bool:
    return (since is None or since.day == 1) and (until is None or until == _month_end(until))


def rows(
    scopes: Scopes, filters: Any, bounds: Bounds, zoom: int, versions: Versions | None = None
) -> list[tuple[Any, ...]] | None:
    """(cell column, cell row, vertical, count, mean longitude, mean latitude) per cluster in
    `bounds` at `zoom`, as a user of `scopes` may see them; None when the table cannot
    answer."""
    if (
        zoom > CLUSTER_MAX_ZOOM
        or filters.category
        or filters.taxon
        or not _whole_months(filters.since, filters.until)
        or not (versions or Versions.now()).usable
    ):
        return None
    records, illicit, exact = scopes.records, scopes.illicit, scopes.exact
    cell = cluster_cell(zoom)
    where = ["zoom = %s", "cx >= %s", "cx <= %s", "cy >= %s", "cy <= %s"]
    params: list[Any] = [
        zoom,
        int(bounds.west // cell),
        int(bounds.east // cell),
        int(bounds.south // cell),
        int(bounds.north // cell),
    ]
    if records is not None:
        seen = f"area_id IN ({ids_sql(records)})"
        if illicit is None:
            seen = f"({seen} OR vertical = '{Vertical.ILLICIT.value}')"
        elif illicit:
            seen = f"({seen} OR (vertical = '{Vertical.ILLICIT.value}' AND area_id IN ({ids_sql(illicit)})))"
        where.append(seen)
    if exact is not None:
        where.append(f"(withheld = %s OR home_id IN ({ids_sql(exact)}))")
        params.append(False)
    if filters.area is not None:
        where.append("area_id = %s")
        params.append(filters.area)
    else:
        where.append("is_home = %s")
        params.append(True)
    if filters.vertical:
        where.append("vertical = %s")
        params.append(filters.vertical)
    if filters.since is not None:
        where.append("month >= %s")
        params.append(filters.since)
    if filters.until is not None:
        where.append("month <= %s")
        params.append(filters.until.replace(day=1))
    sql = (
        "SELECT cx, cy, vertical, SUM(n), SUM(sx) / SUM(n), SUM(sy) / SUM(n) "  # noqa: S608 (ids: integers)
        f"FROM maps_clustercount WHERE {' AND '.join(where)} GROUP BY cx, cy, vertical ORDER BY 1, 2, 3"
    )
    return query(sql, params)
