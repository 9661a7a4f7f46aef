"""Effort on the grid and patrol coverage, computed in the database (indicators.compute's
style: one INSERT … SELECT per family, over every area and period of a computation, the
same statement on PostGIS and SpatiaLite but for the spatial function names).

1. `cell_effort`: each leg-day's track clipped to its area (as TrackSegment) and then to
   each grid cell it crosses (GridCell, EPSG:6933) → effort.km, effort.patrol_hours,
   effort.field_hours, effort.person_days and effort.leg_days per cell (cell_id set);
   then records per cell for all verticals together (cell.records, subject ""); the
   gridded encounter rate cpue.records.km per cell is derived from them when read
   (models.IndicatorRow).
2. `coverage`: the share of an area (and of each zone) within 500 m of a track
   (coverage.area), and the share of its grid cells patrolled (coverage.cells).
"""

from __future__ import annotations

from indicators import sql
from indicators.models import CELL_M, EQUAL_AREA_SRID, LARGE_AREA_KM2, LARGE_CELL_M

# The patrol swath: ecoscope's patrol summary buffers tracks by 500 m (domain.md §2).
SWATH_M = 500.0
# Tracks are simplified (Douglas–Peucker) by this many metres before they are buffered: a
# GPS fix is no better, and the swath's edge moves by at most this much.
SIMPLIFY_M = 5.0

# Every CTE holding a spatial result is MATERIALIZED: inlined, both databases would compute
# the shape once for each reference to its column.

# The spatial functions each database names differently.
_SQL = {
    True: {
        "length": "ST_LengthSpheroid({}, 'SPHEROID[\"WGS 84\",6378137,298.257223563]')",
        "xmin": "ST_XMin({})",
        "xmax": "ST_XMax({})",
        "ymin": "ST_YMin({})",
        "ymax": "ST_YMax({})",
        "lines": "ST_CollectionExtract({}, 2)",
        "polygons": "ST_CollectionExtract({}, 3)",
        # A line clipped to an axis-aligned square (a grid cell): the same pieces as
        # ST_Intersection, by rectangle clipping rather than overlay (a few times faster).
        "clip": "ST_ClipByBox2D({})",
        "wkb": "ST_AsBinary({})",
        "from_wkb": "ST_GeomFromWKB({})",
    },
    False: {
        "length": "GeodesicLength({})",
        "xmin": "MbrMinX({})",
        "xmax": "MbrMaxX({})",
        "ymin": "MbrMinY({})",
        "ymax": "MbrMaxY({})",
        "lines": "CollectionExtract({}, 2)",
        "polygons": "CollectionExtract({}, 3)",
        "clip": "ST_Intersection({})",
        "wkb": "AsBinary({})",
        "from_wkb": "GeomFromWKB({})",
    },
}


def _f(name: str, arg: str) -> str:
    return _SQL[sql.dialect().postgres][name].format(arg)


def _size(area: str) -> str:
    return f"CASE WHEN {area}.area_km2 > {LARGE_AREA_KM2} THEN {LARGE_CELL_M} ELSE {CELL_M} END"


def cell_effort(job: int, where: sql.Where) -> None:
    """Effort per grid cell, then records and encounter rates per cell.

    Distance: the geodesic length of the leg-day's track clipped to its area and then to
    the cell (SMART clips tracks to the area, zone or cell the same way; domain.md §1, §6),
    so an area's cells add up to the area's effort.km. Hours and person-days are
    apportioned by the share of the leg-day's distance inside the cell
    (formulas.apportion): ODK geotraces carry no per-point times, so the time spent in a
    cell is taken to be the share of the day's distance walked there. A leg-day counts as
    one leg-day in every cell it crosses.

    The gridded encounter rate (formulas.encounter_rate, domain.md §6; derived when read,
    models.IndicatorRow) is records per 10 km
    walked in the cell, with Garwood's 95 % interval (PoissonBound) scaled alike, for all
    records (subject "") and per vertical. Cells without effort have no row (no data,
    never 0); a patrolled cell where nothing was seen has 0 with its upper bound.
    """
    d = sql.dialect()
    ts_where, ts_params = where.sql("ts.area_id", "d.day")
    g = "days.g"
    size = "days.size"
    piece = _f("clip", f"{g}, c.geom")
    # Clipping a line that misses the cell gives nothing (0 km, left out below): no test first.
    touches = "" if d.postgres else f"AND ST_Intersects({g}, c.geom)"
    figures = {
        "km": "effort.km",
        "ph": "effort.patrol_hours",
        "fh": "effort.field_hours",
        "pd": "effort.person_days",
        "legdays": "effort.leg_days",
    }
    # The months of the scope's years not in scope themselves: their stored rows.
    stored = sql.stored_months(
        "v.area_id, v.period_start AS m, v.cell_id, "
        + ", ".join(
            f"SUM(CASE WHEN v.indicator = '{code}' THEN v.value ELSE 0 END) AS {col}"
            for col, code in figures.items()
        ),
        "v.cell_id <> 0 AND v.zone_id = 0 AND v.indicator IN ("
        + ", ".join(f"'{c}'" for c in figures.values())
        + ")",
        "v.area_id, v.period_start, v.cell_id",
    )
    km = f"COALESCE({_f('length', _f('lines', f'ST_Transform({piece}, 4326)'))}, 0) / 1000.0"
    codes = " UNION ALL ".join(
        f"SELECT '{code}' AS code"
        for code in ("km", "patrol_hours", "field_hours", "person_days", "leg_days")
    )
    figure = (
        "CASE k.code WHEN 'km' THEN pe.km WHEN 'patrol_hours' THEN pe.ph WHEN 'field_hours' THEN pe.fh"
        " WHEN 'person_days' THEN pe.pd ELSE pe.legdays END"
    )

    def span(axis: str) -> str:
        # The cells under the clipped track's bounding box: looked up by key, not by shape.
        low, high = (_f(f"{axis}{end}", g) for end in ("min", "max"))
        return f"{d.floor(f'{low} / {size}')} AND {d.floor(f'{high} / {size}')}"

    sql.execute(
        f"""
        INSERT INTO {sql.IV} ({sql.COLUMNS})
        WITH days AS MATERIALIZED (
            SELECT ts.area_id, d.id AS leg_day_id, {d.month("d.day")} AS m, {_size("pa")} AS size,
                d.distance_km AS day_km, d.patrol_hours, d.field_hours, d.person_days,
                ST_Transform(ST_Intersection(pa.boundary, d.track), {EQUAL_AREA_SRID}) AS g
            FROM observations_tracksegment ts
            JOIN observations_patrollegday d ON d.id = ts.leg_day_id
            JOIN protected_areas_protectedarea pa ON pa.id = ts.area_id
            {sql.in_scope_month("ts.area_id", d.month("d.day"))}
            WHERE {ts_where} AND ts.zone_id IS NULL AND ts.has_track AND ts.distance_km > 0
                AND d.track IS NOT NULL AND d.distance_km > 0
        ),
        pieces AS MATERIALIZED (
            SELECT days.area_id, days.m, c.id AS cell_id, days.day_km, days.patrol_hours,
                days.field_hours, days.person_days, {km} AS km
            FROM days
            JOIN indicators_gridcell c ON c.area_id = days.area_id AND c.size_m = {size}
                AND c.ix BETWEEN {span("x")} AND c.iy BETWEEN {span("y")}
            WHERE {g} IS NOT NULL {touches}
        ),
        cm AS MATERIALIZED (
            SELECT area_id, m, cell_id, SUM(km) AS km,
                SUM(patrol_hours * km / day_km) AS ph, SUM(field_hours * km / day_km) AS fh,
                SUM(person_days * km / day_km) AS pd, COUNT(*) AS legdays
            FROM pieces WHERE km > 0
            GROUP BY area_id, m, cell_id
            UNION ALL
            {stored}
        ),
        pe AS (
            SELECT area_id, cell_id, kind, start, SUM(km) AS km, SUM(ph) AS ph, SUM(fh) AS fh,
                SUM(pd) AS pd, SUM(legdays) AS legdays
            FROM {sql.by_month(sql.periods("cm", "x.*"), "area_id, cell_id, kind, start")} p
            GROUP BY area_id, cell_id, kind, start
        ),
        codes AS ({codes})
        SELECT pe.area_id, 0, pe.cell_id, pe.kind, pe.start, 'effort.' || k.code, '',
            {figure}, {figure}, {sql.N}, {sql.N}, {sql.N}, {figure}
        FROM pe CROSS JOIN codes k
        """,
        [job, *ts_params, *[job] * 2, *[job] * 3],
    )
    _cell_rates(job)


def _in_scope(alias: str) -> str:
    return (
        f"JOIN {sql.SCOPE} s ON s.job = %s AND s.area_id = {alias}.area_id"
        f" AND s.period_kind = {alias}.period_kind AND s.period_start = {alias}.period_start"
    )


def _cell_rates(job: int) -> None:
    """cell.records for all verticals together, from this computation's records per
    vertical (indicators.compute's cells step). The gridded encounter rate cpue.records.km is derived from
    these rows and cell_effort's km when read (models.IndicatorRow, migration 0003)."""
    n = sql.N
    sql.execute(
        f"""
        INSERT INTO {sql.IV} ({sql.COLUMNS})
        SELECT r.area_id, 0, r.cell_id, r.period_kind, r.period_start, 'cell.records', '',
            SUM(r.value), SUM(r.value), {n}, {n}, {n}, {n}
        FROM {sql.IV} r {_in_scope("r")}
        WHERE r.indicator = 'cell.records' AND r.cell_id <> 0 AND r.subject <> ''
        GROUP BY r.area_id, r.cell_id, r.period_kind, r.period_start
        """,
        [job],
    )


def coverage(job: int, where: sql.Where) -> None:
    """coverage.area: the share (0–1) of an area, and of each of its zones, within 500 m of
    a track walked in the period — ecoscope's merged swath coverage (overlaps counted once;
    domain.md §2, §6; formulas.area_coverage). The tracks of the leg-days with effort in
    the area, simplified by SIMPLIFY_M, are buffered in the UTM zone of the area's centre
    (a metric buffer), merged per month (stored, MonthlySwath, and kept while the month's
    tracks are the same), then the months per quarter and year, and
    intersected with the boundary; numerator the covered km², denominator the boundary's
    km² in the same projection.

    coverage.cells: the share (0–1) of the area's grid cells with effort.km in the period
    (formulas.cell_coverage, SMART's gridded effort; domain.md §6); numerator patrolled
    cells, denominator cells. Both only for periods where the area has km patrolled."""
    d = sql.dialect()
    n = sql.N
    ts_where, ts_params = where.sql("ts.area_id", "d.day")
    utm = (
        "(32601 + CASE WHEN ST_Y(ST_Centroid(pa.boundary)) < 0 THEN 100 ELSE 0 END"
        f" + {d.floor('(ST_X(ST_Centroid(pa.boundary)) + 180) / 6')})"
    )
    covered = _f("polygons", "ST_Intersection(sw.u, ST_Transform(pl.boundary, sw.srid))")
    tracks = """FROM observations_tracksegment ts
            JOIN observations_patrollegday d ON d.id = ts.leg_day_id"""
    buffered = f"""{ts_where} AND ts.zone_id IS NULL AND ts.has_track AND ts.distance_km > 0
                AND d.track IS NOT NULL"""
    # Stored swaths kept while their month's input is the same (MonthlySwath says why its
    # fingerprint tells): deleted where a month in scope has other segments or another
    # projection, and wherever a month of the computation's areas and dates has none left.
    v_where, v_params = where.sql("v.area_id", "v.month")
    sql.execute(
        f"""
        DELETE FROM {sql.SWATHS} WHERE id IN (
            SELECT v.id FROM {sql.SWATHS} v
            LEFT JOIN (
                SELECT f.area_id, f.m, f.n, f.total, f.top, {utm} AS srid FROM (
                    SELECT ts.area_id, {d.month("d.day")} AS m, COUNT(*) AS n, SUM(ts.id) AS total,
                        MAX(ts.id) AS top
                    {tracks}
                    WHERE {buffered}
                    GROUP BY ts.area_id, {d.month("d.day")}
                ) f JOIN protected_areas_protectedarea pa ON pa.id = f.area_id
            ) f ON f.area_id = v.area_id AND f.m = v.month
            WHERE {v_where} AND (f.area_id IS NULL OR (
                (f.n <> v.segment_count OR f.total <> v.segment_id_sum OR f.top <> v.segment_id_max
                    OR f.srid <> v.srid)
                AND EXISTS (SELECT 1 FROM {sql.SCOPE} sm WHERE sm.job = %s AND sm.area_id = v.area_id
                    AND sm.period_kind = 'M' AND sm.period_start = v.month)))
        )
        """,
        [*ts_params, *v_params, job],
    )
    # The months in scope without a stored swath: their tracks buffered and merged, stored
    # with their fingerprint.
    sql.execute(
        f"""
        INSERT INTO {sql.SWATHS} (area_id, month, srid, geom, segment_count, segment_id_sum, segment_id_max)
        WITH lt AS (
            SELECT ts.area_id, ts.id, {d.month("d.day")} AS m, {utm} AS srid,
                ST_Buffer(ST_Simplify(ST_Transform(d.track, {utm}), {SIMPLIFY_M}), {SWATH_M}) AS g
            {tracks}
            JOIN protected_areas_protectedarea pa ON pa.id = ts.area_id
            {sql.in_scope_month("ts.area_id", d.month("d.day"))}
            WHERE {buffered} AND NOT EXISTS (
                SELECT 1 FROM {sql.SWATHS} v WHERE v.area_id = ts.area_id AND v.month = {d.month("d.day")})
        )
        SELECT area_id, m, MAX(srid), {_f("wkb", "ST_Union(g)")}, COUNT(*), SUM(id), MAX(id)
        FROM lt GROUP BY area_id, m
        """,
        [job, *ts_params],
    )
    sql.execute(
        f"""
        INSERT INTO {sql.IV} ({sql.COLUMNS})
        WITH monthly AS MATERIALIZED (
            SELECT v.area_id, v.month AS m, v.srid, {_f("from_wkb", "v.geom, v.srid")} AS g
            FROM {sql.SCOPE} y JOIN {sql.SWATHS} v ON v.area_id = y.area_id
                AND v.month >= y.period_start AND v.month <= y.period_end
            WHERE y.job = %s AND y.period_kind = 'Y'
        ),
        swath AS (
            -- Quarters and years merge the stored months' swaths: each track is buffered once.
            SELECT kind, start, area_id, MAX(srid) AS srid, ST_Union(g) AS u
            FROM {sql.by_month(sql.periods("monthly", "x.*"), "kind, start, area_id")} p
            GROUP BY kind, start, area_id
        ),
        places AS (
            SELECT id AS area_id, 0 AS zone_id, boundary FROM protected_areas_protectedarea
            UNION ALL
            SELECT area_id, id, boundary FROM protected_areas_zone
        ),
        measured AS MATERIALIZED (
            SELECT sw.area_id, pl.zone_id, sw.kind, sw.start,
                COALESCE(ST_Area({covered}), 0) / 1e6 AS covered,
                ST_Area(ST_Transform(pl.boundary, sw.srid)) / 1e6 AS whole
            FROM swath sw JOIN places pl ON pl.area_id = sw.area_id
        )
        SELECT area_id, zone_id, 0, kind, start, 'coverage.area', '',
            CASE WHEN whole > 0 THEN CASE WHEN covered > whole THEN 1.0 ELSE covered / whole END END,
            covered, whole, {n}, {n}, {n}
        FROM measured
        """,
        [*[job] * 4],
    )
    sql.execute(
        f"""
        INSERT INTO {sql.IV} ({sql.COLUMNS})
        WITH cells AS (
            SELECT c.area_id, COUNT(*) AS cells FROM indicators_gridcell c
            JOIN protected_areas_protectedarea pa ON pa.id = c.area_id
            WHERE c.size_m = {_size("pa")}
            GROUP BY c.area_id
        ),
        walked AS MATERIALIZED (
            SELECT e.area_id, e.period_kind, e.period_start, COUNT(*) AS patrolled
            FROM {sql.IV} e {_in_scope("e")}
            WHERE e.indicator = 'effort.km' AND e.cell_id <> 0 AND e.zone_id = 0 AND e.subject = ''
                AND e.value > 0
            GROUP BY e.area_id, e.period_kind, e.period_start
        )
        SELECT a.area_id, 0, 0, a.period_kind, a.period_start, 'coverage.cells', '',
            CAST(COALESCE(w.patrolled, 0) AS double precision) / c.cells,
            COALESCE(w.patrolled, 0), c.cells, {n}, {n}, {n}
        FROM {sql.IV} a {_in_scope("a")}
        JOIN cells c ON c.area_id = a.area_id
        LEFT JOIN walked w ON w.area_id = a.area_id AND w.period_kind = a.period_kind
            AND w.period_start = a.period_start
        WHERE a.indicator = 'effort.km' AND a.zone_id = 0 AND a.cell_id = 0 AND a.subject = ''
            AND a.value > 0
        """,
        [job, job],
    )
