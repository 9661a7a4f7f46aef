"""Observation rows for exports, computed by the database: the fast path.

The same rows as exports.records (which builds each through observations.api.feature), but
read as plain values, never as model instances:

- on PostGIS the whole CSV is one `COPY (SELECT …) TO STDOUT WITH (FORMAT csv, HEADER)`
  streamed through psycopg's `cursor.copy`; the SELECT generalises sensitive points in SQL
  with the arithmetic of accounts.generalisation (decimal grid snapping on the shortest
  text of each coordinate, the cell's half diagonal on the ellipsoid) and leaves the personal
  fields empty where the user may not read them;
- elsewhere (SpatiaLite) and for the other file formats, `values_list` read in chunks, the
  point generalised by accounts.generalisation.generalise itself.

Who may see what is decided once per export (sensitivity.UserView) and written into the
query as area sets. The audit trail (AccessAction.EXPORT) gets one AccessEvent per row that
carries an exact sensitive point or a personal field, written by one INSERT … SELECT over
the same filtered query before the first row leaves the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from accounts import access
from accounts.access import Capability
from accounts.generalisation import CELL_DEGREES, Sensitivity, generalise, withheld
from accounts.models import AccessAction, AccessEvent
from exports.records import COLUMNS, Filters, observations_for, personal_columns
from observations import sensitivity
from observations.api import OBSERVER, SUSPECT_NAMES
from observations.models import Observation

CHUNK = 5000

# Rank (accounts.generalisation.STRICTNESS) → level, for the ranks that are sensitive.
_LEVEL = {1: Sensitivity.LOW, 2: Sensitivity.MEDIUM, 3: Sensitivity.HIGH, 4: Sensitivity.EXTREME}


def _holds(area_ids: frozenset[int] | None, field: str = "area_id") -> Any:
    """A boolean SQL expression: the row's area is among `area_ids` (None: every area)."""
    if area_ids is None:
        return Value(True)
    if not area_ids:
        return Value(False)
    return ExpressionWrapper(Q(**{f"{field}__in": sorted(area_ids)}), output_field=BooleanField())


def _when(condition: Any) -> Q:
    """`condition` (a boolean expression) usable in When() and filter()."""
    return Q(condition)


class _X(Func):
    function = "ST_X"
    output_field = FloatField()


class _Y(Func):
    function = "ST_Y"
    output_field = FloatField()


def _rank() -> Any:
    """The effective sensitivity rank (observations.sensitivity.with_levels), asked only of
    species records with a taxon: the rules' subquery is not run for the other rows."""
    return Case(
        When(species__taxon__isnull=True, then=Value(0)),
        default=F("sensitivity_rank"),
        output_field=IntegerField(),
    )


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def base(user: Any, filters: Filters) -> QuerySet[Observation]:
    """The observations `user` may export with `filters` (exports.records.observations_for),
    annotated with what decides each row: `x_rank` (sensitivity), `x_exact` (the user sees
    exact points in the row's area), `x_gen` (the point is generalised or withheld)."""
    view = sensitivity.UserView.of(user)
    exact_areas = view.by_capability[Capability.VIEW_EXACT_SENSITIVE_LOCATIONS]
    rows = observations_for(user, filters).select_related(None).prefetch_related(None).order_by()
    rows = rows.alias(x_rank=_rank())
    exact = _holds(exact_areas)
    rows = rows.alias(
        x_exact=exact,
        x_gen=_flag(Q(location__isnull=False, x_rank__gt=0) & ~Q(exact)),
    )
    if filters.zone is not None:
        # The zone of a generalised record is withheld: such a record is not claimed either.
        rows = rows.filter(x_gen=False)
    return rows


def _personal(user: Any) -> tuple[frozenset[int] | None, frozenset[int] | None]:
    view = sensitivity.UserView.of(user)
    return (
        view.by_capability[access.PERSONAL_FIELDS[OBSERVER]],
        view.by_capability[access.PERSONAL_FIELDS[SUSPECT_NAMES]],
    )


def values(
    user: Any, filters: Filters, extra: dict[str, Any] | None = None, exact_flag: bool = False
) -> tuple[QuerySet[Any, Any], list[str]]:
    """The plain values of each row (aliased `v_…`), in export order, and the personal
    columns the user gets; `extra` expressions (a vertical's columns) are added as `x_<key>`."""
    observer_areas, suspect_areas = _personal(user)
    personal = personal_columns(user)
    fields: dict[str, Any] = {
        "v_id": F("pk"),
        "v_uuid": F("record_uuid"),
        "v_time": F("time"),
        "v_day": F("day"),
        "v_area": F("area_id"),
        "v_zone": F("zone_id"),
        "v_vertical": F("vertical"),
        "v_category": F("category_id"),
        "v_count": F("count"),
        "v_taxon": Case(
            When(
                species__isnull=False,
                then=Coalesce(F("species__taxon__scientific_name"), F("species__taxon_name")),
            ),
            default=Value(None),
            output_field=CharField(),
        ),
        "v_icount": Case(
            When(species__isnull=False, then=F("species__individual_count")),
            default=Value(None),
            output_field=IntegerField(),
        ),
        "v_x": _X("location"),
        "v_y": _Y("location"),
        "v_acc": F("accuracy_m"),
        "v_rank": F("x_rank"),
    }
    if exact_flag:
        # The COPY works out `gen` from the rank itself: the rank's subquery is then in the
        # SELECT once, not twice.
        fields["v_exact"] = F("x_exact")
    else:
        fields["v_gen"] = F("x_gen")
    if "observer" in personal:
        fields["v_observer"] = Case(
            When(_when(_holds(observer_areas)), then=F("observer")),
            default=Value(""),
            output_field=CharField(),
        )
    if "suspect_names" in personal:
        fields["v_suspects"] = Case(
            When(Q(illicit__isnull=False) & _when(_holds(suspect_areas)), then=F("illicit__suspect_names")),
            default=Value(""),
            output_field=CharField(),
        )
    for key, expression in (extra or {}).items():
        fields[f"x_{key}"] = expression
    return base(user, filters).values(**fields).order_by("v_time", "v_id"), personal


# --- The audit, in one statement ---------------------------------------------------------------

_FIELD_SETS = [
    (("location", "observer", "suspect_names"), ("loc", "obs", "sus")),
    (("location", "observer"), ("loc", "obs")),
    (("location", "suspect_names"), ("loc", "sus")),
    (("observer", "suspect_names"), ("obs", "sus")),
    (("location",), ("loc",)),
    (("observer",), ("obs",)),
    (("suspect_names",), ("sus",)),
]


def record_export(request: Any, user: Any, filters: Filters) -> int:
    """One AccessEvent (action "export") for every row of the export that carries an exact
    sensitive point or a personal field, as observations.api.feature names them: written by
    one INSERT … SELECT, no row passes through Python. Returns the number written."""
    observer_areas, suspect_areas = _personal(user)
    exact_areas = sensitivity.UserView.of(user).by_capability[Capability.VIEW_EXACT_SENSITIVE_LOCATIONS]
    if exact_areas == observer_areas == suspect_areas == frozenset():
        return 0  # nothing the user may export is disclosed: no statement at all
    rows = base(user, filters).alias(
        d_loc=_flag(Q(location__isnull=False, x_rank__gt=0, x_gen=False)),
        d_obs=_flag(_when(_holds(observer_areas)) & ~Q(observer="")),
        d_sus=_flag(_when(_holds(suspect_areas)) & Q(illicit__isnull=False) & ~Q(illicit__suspect_names="")),
    )
    flags = {"loc": "d_loc", "obs": "d_obs", "sus": "d_sus"}
    rows = rows.filter(Q(d_loc=True) | Q(d_obs=True) | Q(d_sus=True))
    whens = []
    for names, keys in _FIELD_SETS:
        condition = Q(**{f"{flags[k]}": True for k in keys}) & Q(
            **{f"{flags[k]}": False for k in flags if k not in keys}
        )
        whens.append(When(condition, then=Value('["' + '", "'.join(names) + '"]')))
    events: QuerySet[Any, Any] = rows.values(
        e_id=Cast("pk", CharField()),
        e_fields=Case(*whens, default=Value("[]"), output_field=CharField()),
        e_area=F("area_id"),
    ).order_by()
    return insert_events(request, events, Observation._meta.label_lower)


def insert_events(request: Any, rows: QuerySet[Any, Any], object_type: str) -> int:
    """AccessEvents (action "export") by `request.user` for `rows`, a values() queryset of
    `e_id` (text), `e_fields` (a JSON list as text) and `e_area`: one INSERT … SELECT."""
    user = request.user
    inner, params = rows.query.sql_with_params()
    meta = getattr(request, "META", {}) or {}
    table = AccessEvent._meta.db_table
    fields_sql = "CAST(d.e_fields AS jsonb)" if connection.vendor == "postgresql" else "d.e_fields"
    # Names and the subquery come from the ORM; every value is a parameter.
    columns = "at, user_id, username, action, object_type, object_id, fields, area_id, ip, user_agent, path"
    select = f"SELECT %s, %s, %s, %s, %s, d.e_id, {fields_sql}, d.e_area, %s, %s, %s FROM ({inner}) d"  # noqa: S608
    sql = f"INSERT INTO {table} ({columns}) {select}"
    head = [
        timezone.now(),
        getattr(user, "pk", None),
        getattr(user, "username", "") or "",
        AccessAction.EXPORT.value,
        object_type,
    ]
    tail = [
        access.client_ip(request),
        str(meta.get("HTTP_USER_AGENT", ""))[:300],
        str(getattr(request, "path", ""))[:500],
    ]
    with connection.cursor() as cursor:
        # Placeholders in the order of the SQL text: the SELECT list's, then the subquery's.
        cursor.execute(sql, [*head, *tail, *params])
        return max(cursor.rowcount, 0)


# --- Rows in Python (SpatiaLite, and every format but the PostGIS CSV) -------------------------

_KEYS = [
    "v_id", "v_uuid", "v_time", "v_day", "v_area", "v_zone", "v_vertical", "v_category", "v_count",
    "v_taxon", "v_icount", "v_x", "v_y", "v_acc", "v_rank", "v_gen",
]  # fmt: skip


def columns(user: Any) -> list[str]:
    """The CSV columns of the user's export: exports.records.COLUMNS and its personal ones."""
    return COLUMNS + personal_columns(user)


def python_rows(
    user: Any, filters: Filters, extra: dict[str, Any] | None = None
) -> Iterator[list[tuple[list[Any], tuple[float, float] | None]]]:
    """The rows of the export, chunk by chunk (`columns(user)` in order, then the `extra`
    columns) with the point shown as (lon, lat) or None, read with values_list: no model
    instance is built."""
    rows, personal = values(user, filters, extra)
    keys = (
        _KEYS
        + (["v_observer"] if "observer" in personal else [])
        + (["v_suspects"] if "suspect_names" in personal else [])
        + [f"x_{key}" for key in extra or {}]
    )
    chunk: list[tuple[list[Any], tuple[float, float] | None]] = []
    for record in rows.values_list(*keys).iterator(chunk_size=CHUNK):
        (_, uuid, time, day, area, zone, vertical, category, count, taxon, icount) = record[:11]
        x, y, acc, rank, gen = record[11:16]
        dg = iw = ""
        if x is None:
            lon = lat = uncertainty = None
        elif gen:
            level = _LEVEL[rank]
            shown = withheld(level) if CELL_DEGREES[level] is None else generalise(x, y, level, acc)
            lon, lat, uncertainty = shown.lon, shown.lat, shown.uncertainty_m
            dg, iw, zone = shown.data_generalizations, shown.information_withheld, None
        else:
            lon, lat, uncertainty = x, y, acc
        row = [
            str(uuid), time.isoformat() if time else None, day.isoformat() if day else None, area, zone,
            vertical, category, count, taxon, icount, lat, lon, uncertainty, dg, iw, *record[16:],
        ]  # fmt: skip
        chunk.append((row, (lon, lat) if lon is not None and lat is not None else None))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- The CSV in one COPY (PostGIS) --------------------------------------------------------------

# accounts.generalisation.cell_half_diagonal_m in SQL, of the cell starting at latitude
# {s} (float8) with side {d} degrees (float8): the same operations in the same order.
_HALF_DIAGONAL = """ceil(sqrt(
    power({d} * (111412.84 * cos(radians({w})) - 93.5 * cos(3 * radians({w}))), 2)
  + power({d} * (111132.954 - 559.822 * cos(2 * radians({s} + {d} / 2))
                + 1.175 * cos(4 * radians({s} + {d} / 2))), 2)
) / 2)"""
_WIDEST = "CASE WHEN {s} * ({s} + {d}) > 0 THEN least(abs({s}), abs({s} + {d})) ELSE 0.0 END"

# OFFSET 0 keeps each step a subquery of its own: without it PostgreSQL folds the steps into
# one SELECT and evaluates the sensitivity subquery once per reference to the rank.
_COPY = """COPY (
WITH r AS ({inner} OFFSET 0),
o AS (
    -- Sorted while the rows are narrow (before the texts are made), and kept in that order:
    -- the steps below read this one row by row, without joins.
    SELECT r.*, (r.v_x IS NOT NULL AND r.v_rank > 0 AND NOT r.v_exact) AS v_gen
    FROM r ORDER BY r.v_time, r.v_id OFFSET 0
),
g AS (
    SELECT o.*, CASE o.v_rank WHEN 1 THEN 0.001 WHEN 2 THEN 0.01 WHEN 3 THEN 0.1 END AS c FROM o
),
s AS (
    SELECT g.*,
           CASE WHEN g.v_gen AND g.c IS NOT NULL THEN floor(g.v_x::text::numeric / g.c) * g.c END AS x0,
           CASE WHEN g.v_gen AND g.c IS NOT NULL THEN floor(g.v_y::text::numeric / g.c) * g.c END AS y0
    FROM g
    OFFSET 0
)
SELECT
    s.v_uuid AS record_uuid,
    CASE WHEN date_trunc('second', s.v_time) = s.v_time
         THEN to_char(s.v_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
         ELSE to_char(s.v_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') END AS time,
    s.v_day AS day,
    s.v_area AS area,
    CASE WHEN s.v_gen THEN NULL ELSE s.v_zone END AS zone,
    s.v_vertical AS vertical,
    s.v_category AS category,
    s.v_count AS count,
    s.v_taxon AS taxon,
    s.v_icount AS "individualCount",
    CASE WHEN NOT s.v_gen THEN s.v_y WHEN s.c IS NOT NULL THEN (s.y0 + s.c / 2)::float8 END AS latitude,
    CASE WHEN NOT s.v_gen THEN s.v_x WHEN s.c IS NOT NULL THEN (s.x0 + s.c / 2)::float8 END AS longitude,
    CASE WHEN s.v_x IS NULL THEN NULL
         WHEN NOT s.v_gen THEN s.v_acc
         WHEN s.c IS NULL THEN NULL
         ELSE ({half} + ceil(coalesce(s.v_acc, 0)))::float8 END AS "coordinateUncertaintyInMeters",
    CASE WHEN s.v_gen AND s.c IS NOT NULL
         THEN 'Coordinates generalised to the centre of a ' || s.c::text || '° grid cell: sensitive species ('
              || CASE s.v_rank WHEN 1 THEN %s WHEN 2 THEN %s WHEN 3 THEN %s END || ').'
         ELSE '' END AS "dataGeneralizations",
    CASE WHEN NOT s.v_gen THEN '' WHEN s.c IS NULL THEN %s ELSE %s END AS "informationWithheld"
    {personal}
FROM s
) TO STDOUT WITH (FORMAT csv, HEADER)"""


def copy_sql(user: Any, filters: Filters) -> tuple[str, list[Any]]:
    """The COPY statement of the user's CSV export and its parameters."""
    rows, personal = values(user, filters, exact_flag=True)
    inner, params = rows.order_by().query.sql_with_params()
    start, side = "s.y0::float8", "s.c::float8"
    half = _HALF_DIAGONAL.format(s=start, d=side, w=_WIDEST.format(s=start, d=side))
    extra = "".join(
        f', s.{key} AS "{column}"'
        for column, key in (("observer", "v_observer"), ("suspect_names", "v_suspects"))
        if column in personal
    )
    example = generalise(0.0, 0.0, Sensitivity.HIGH)
    texts = [
        Sensitivity(Sensitivity.LOW).label,
        Sensitivity(Sensitivity.MEDIUM).label,
        Sensitivity(Sensitivity.HIGH).label,
        withheld(Sensitivity.EXTREME).information_withheld,
        example.information_withheld,
    ]
    return _COPY.format(inner=inner, half=half, personal=extra), [*params, *texts]


def copy_csv(user: Any, filters: Filters, block: int = 1 << 16) -> Iterator[bytes]:
    """The CSV export from PostgreSQL's COPY, in blocks of about `block` bytes."""
    sql, params = copy_sql(user, filters)
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compilation costs this statement more CPU than it saves (about 8 % more on a
        # million rows): off for this transaction only.
        cursor.execute("SET LOCAL jit = off")
        with cursor.cursor.copy(sql, params) as copy:
            buffer = bytearray()
            for data in copy:
                buffer += data
                if len(buffer) >= block:
                    yield bytes(buffer)
                    buffer.clear()
            if buffer:
                yield bytes(buffer)


def python_csv(user: Any, filters: Filters) -> Iterator[bytes]:
    """The CSV export written by the csv module, chunk by chunk (SpatiaLite)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns(user))
    for chunk in python_rows(user, filters):
        writer.writerows(row for row, _ in chunk)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def csv_bytes(request: Any, filters: Filters) -> Iterator[bytes]:
    """The fast CSV export of observations: the audit written first (one statement), then
    the rows, by COPY on PostgreSQL and values_list elsewhere."""
    user = request.user
    record_export(request, user, filters)
    if connection.vendor == "postgresql":
        yield from copy_csv(user, filters)
    else:
        yield from python_csv(user, filters)
