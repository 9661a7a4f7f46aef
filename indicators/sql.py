"""The SQL parts every indicator family shares: the result table and its columns, the
scope table, each database's spelling of date and projection functions, the records a
computation reads (Where), and the quarters and years summed from stored months."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection

from indicators.models import EQUAL_AREA_SRID

# 97.5 % quantile of the standard normal: the two-sided 95 % bounds.
Z95 = 1.959963984540054

# A typed NULL: PostgreSQL types an untyped NULL in a UNION as text.
N = "CAST(NULL AS double precision)"
IV = "indicators_indicatorvalue"
# Appended to an INSERT's SELECT (COLUMNS order): rows arrive in the order of the unique
# key, so that its B-tree is filled page after page rather than all over.
IN_KEY_ORDER = "ORDER BY 1, 4, 5, 2, 3, 6, 7"
SCOPE = "indicators_computescope"
COLUMNS = (
    "area_id, zone_id, cell_id, period_kind, period_start, indicator, subject, "
    "value, numerator, denominator, lower, upper, effort"
)


@dataclass(frozen=True)
class _Dialect:
    postgres: bool

    def month(self, day: str) -> str:
        return (
            f"CAST(date_trunc('month', {day}) AS date)" if self.postgres else f"date({day}, 'start of month')"
        )

    def quarter(self, month: str) -> str:
        if self.postgres:
            return f"CAST(date_trunc('quarter', {month}) AS date)"
        # Percent signs doubled: the statement goes through the DB-API's %-formatting (and,
        # with DEBUG on, through Django's query log), which would read them as placeholders.
        return f"date({month}, '-' || ((CAST(strftime('%%m', {month}) AS integer) - 1) %% 3) || ' months')"

    def year(self, month: str) -> str:
        return (
            f"CAST(date_trunc('year', {month}) AS date)"
            if self.postgres
            else f"date({month}, 'start of year')"
        )

    def end(self, start: str, months: int) -> str:
        if self.postgres:
            return f"CAST({start} + interval '{months} months' - interval '1 day' AS date)"
        return f"date({start}, '+{months} months', '-1 day')"

    def year_start(self, year: str) -> str:
        if self.postgres:
            return f"make_date(CAST({year} AS integer), 1, 1)"
        return f"date(printf('%%04d-01-01', {year}))"

    def year_of(self, day: str) -> str:
        return (
            f"CAST(EXTRACT(YEAR FROM {day}) AS integer)"
            if self.postgres
            else f"CAST(strftime('%%Y', {day}) AS integer)"
        )

    def x(self, geom: str) -> str:
        return f"ST_X(ST_Transform({geom}, {EQUAL_AREA_SRID}))"

    def y(self, geom: str) -> str:
        return f"ST_Y(ST_Transform({geom}, {EQUAL_AREA_SRID}))"

    def floor(self, expr: str) -> str:
        # SQLite's CAST truncates towards zero: floor by hand for negative coordinates.
        if self.postgres:
            return f"CAST(floor({expr}) AS integer)"
        return f"(CAST({expr} AS integer) - ({expr} < CAST({expr} AS integer)))"


def dialect() -> _Dialect:
    return _Dialect(postgres=connection.vendor == "postgresql")


# A floating-point sum depends on the order of its terms, and a database adds up a group's
# rows in the order its plan reads them: an update (following an index) and a full
# computation (reading whole tables) would differ in the last bit. Sums of measurements are
# therefore taken in whole units, exact in any order, and divided once: effort in 1e-12 km,
# hour or day (a month of an area's effort stays far below 2^63 units), resource quantities
# in millionths (a single record may weigh tonnes), money in hundredths.
FINE, QUANTITY, CENTS = "1e12", "1e6", "100"


def units(expr: str, scale: str = FINE) -> str:
    """`expr` in whole units of 1/`scale` (an integer; NULL stays NULL)."""
    return f"CAST(ROUND(({expr}) * {scale}) AS bigint)"


def from_units(expr: str, scale: str = FINE) -> str:
    return f"(CAST({expr} AS double precision) / {scale})"


def exact_sum(expr: str, scale: str = FINE) -> str:
    """SUM(`expr`), the same whatever the order of the rows (see FINE)."""
    return from_units(f"SUM({units(expr, scale)})", scale)


@contextmanager
def hash_joins(where: Where) -> Iterator[None]:
    """PostgreSQL plans the statements inside with hash joins rather than nested loops when
    `where` reads many areas: the scope's join to the records makes it expect a few rows
    where a national computation has millions, and follow each by index. A few areas (an
    update) keep their index lookups."""
    many = connection.vendor == "postgresql" and (where.area_ids is None or len(where.area_ids) > FEW_AREAS)
    if many:
        execute("SET LOCAL enable_nestloop = off")
    yield
    if many:  # not after an error: the transaction is over, and the setting with it
        execute("SET LOCAL enable_nestloop TO DEFAULT")


# Up to this many areas, a computation is an update's: index lookups are its plan.
FEW_AREAS = 4


def execute(sql: str, params: Iterable[Any] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


@dataclass(frozen=True)
class Where:
    """Which records a computation reads: its areas (None: all) and its first and last day
    (None: open). Passed as values, not as a subquery of the scope, so that the planner
    sees one area as one area (an index scan) and every area as a whole table (a hash)."""

    area_ids: list[int] | None = None
    first: date | None = None
    last: date | None = None

    def sql(self, area: str, day: str) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.area_ids is not None:
            clauses.append(f"{area} IN ({', '.join(['%s'] * len(self.area_ids)) or 'NULL'})")
            params += self.area_ids
        if self.first is not None:
            clauses.append(f"{day} >= %s")
            params.append(self.first)
        if self.last is not None:
            clauses.append(f"{day} <= %s")
            params.append(self.last)
        return " AND ".join(clauses) or "1 = 1", params


def in_scope_month(area: str, month: str) -> str:
    """Join limiting records to the months of the scope (1 job parameter): the months of a
    quarter or year that are not in scope are read back from their stored rows."""
    return (
        f"JOIN {SCOPE} sm ON sm.job = %s AND sm.area_id = {area} AND sm.period_kind = 'M'"
        f" AND sm.period_start = {month}"
    )


def stored_parts(table: str, columns: str, kinds: str, part: str, where: str = "") -> str:
    """The stored rows (alias v, of `table`) of the `part` periods ('M', 'Q') inside the
    scope's periods of `kinds` ("'Q', 'Y'"), each with that period as `kind` and `start`
    and its own start as `m`, joined on `where` too (1 job parameter): quarters and years
    are summed from what is stored under them, those just written and the others, so that
    an update recomputes one month from its records."""
    return f"""SELECT s.period_kind AS kind, s.period_start AS start, v.period_start AS m, {columns}
        FROM {SCOPE} s JOIN {table} v ON v.area_id = s.area_id AND v.period_kind = '{part}'
            AND v.period_start >= s.period_start AND v.period_start <= s.period_end {where}
        WHERE s.job = %s AND s.period_kind IN ({kinds})"""


def by_month(rows: str, keys: str) -> str:
    """`rows` in the order of `keys` and then of the month, so that every database sums a
    quarter's or year's months in the same order whichever were read back from storage
    (floating-point sums depend on their order)."""
    return f"(SELECT * FROM ({rows}) p0 ORDER BY {keys}, m)"


CELL_COLUMNS = (
    "area_id, cell_id, period_kind, period_start, km, patrol_hours, field_hours, person_days, leg_days,"
    " records, records_illicit, records_resource_use, records_biodiversity, records_other"
)
SWATHS = "indicators_monthlyswath"
PERIOD_SWATHS = "indicators_periodswath"
CELLS = "indicators_cellfigure"
PIECES = "indicators_trackpiece"


def km_patrolled(alias: str, area: str, zone: str, kind: str, start: str) -> str:
    """LEFT JOIN of the effort.km row (as `alias`) of an area or zone and period: the effort
    a figure that is not itself effort carries (its `value`; NULL where none)."""
    return f"""LEFT JOIN {IV} {alias} ON {alias}.area_id = {area} AND {alias}.zone_id = {zone}
        AND {alias}.cell_id = 0 AND {alias}.period_kind = {kind} AND {alias}.period_start = {start}
        AND {alias}.indicator = 'effort.km' AND {alias}.subject = ''"""


def roll_up(job: int, codes: Iterable[str]) -> None:
    """The quarters and years in scope of additive indicators with no cell (`codes`: effort,
    counts, resource use): quarters the sums of their stored months, then years the sums
    of their stored quarters (1 job parameter each; those just written and the others), so
    that an update recomputes one month from its records and reads back three months and
    four quarters. Parts are summed in time order: floating-point sums depend on their
    order, and an update and a full computation must agree exactly. Each row carries its
    effort: effort its own value, counts none, resource use the km patrolled in the same
    area, zone and period (the effort.km sum of the same statement)."""
    listed = ", ".join(f"'{c}'" for c in codes)
    same_period = "PARTITION BY g.area_id, g.zone_id, g.kind, g.start"
    km = f"MAX(CASE WHEN g.indicator = 'effort.km' AND g.subject = '' THEN g.v END) OVER ({same_period})"
    effort = f"""CASE WHEN g.indicator LIKE 'effort.%%' THEN g.v
        WHEN g.indicator LIKE 'resource.%%' THEN {km} END"""
    for kind, part in (("Q", "M"), ("Y", "Q")):
        parts = stored_parts(
            IV,
            "v.area_id, v.zone_id, v.indicator, v.subject, v.value",
            f"'{kind}'",
            part,
            f"AND v.indicator IN ({listed}) AND v.cell_id = 0",
        )
        execute(
            f"""
            INSERT INTO {IV} ({COLUMNS})
            SELECT g.area_id, g.zone_id, 0, g.kind, g.start, g.indicator, g.subject, g.v, g.v, {N}, {N}, {N},
                {effort}
            FROM (
                SELECT area_id, zone_id, kind, start, indicator, subject, SUM(value) AS v
                FROM {by_month(parts, "kind, start, area_id, zone_id, indicator, subject")} p
                GROUP BY area_id, zone_id, kind, start, indicator, subject
            ) g
            {IN_KEY_ORDER}
            """,
            [job],
        )
