"""Effort on the grid and patrol coverage, computed in the database (indicators.compute's
style: one INSERT … SELECT per family, over every area and period of a computation, the
same statement on PostGIS and SpatiaLite but for the spatial function names).

1. `cut_tracks`: each leg-day's track clipped to its area (as TrackSegment) and then to
   each grid cell it crosses (GridCell, EPSG:6933), kept as TrackPiece rows; only segments
   not cut before are cut.
2. `cells`: per grid cell and period, the effort from the pieces and the records from the
   observations' points, one CellFigure row each; models.IndicatorRow presents them as
   effort.*, cell.records and cpue.records.km rows with a cell.
3. `area_coverage`: the share of an area (and of each zone) within 500 m of a track
   (coverage.area); `cell_coverage`: the share of its grid cells patrolled (coverage.cells).
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


def cut_tracks(job: int, where: sql.Where) -> None:
    """Cut the tracks of the scope's segments that have no pieces yet (TrackPiece): each
    leg-day's track clipped to its area (as TrackSegment) and then to each grid cell it
    crosses (EPSG:6933), each piece measured as the geodesic length of its lines, in km
    (SMART clips tracks to the area, zone or cell the same way; domain.md §1, §6), so an
    area's cells add up to the area's effort.km. A segment keeps its pieces for as long as
    it exists: only new segments (new or edited patrols) and those of rebuilt grids are cut."""
    d = sql.dialect()
    ts_where, ts_params = where.sql("ts.area_id", "ts.day")
    g = "days.g"
    size = "days.size"
    piece = _f("clip", f"{g}, c.geom")
    # Clipping a line that misses the cell gives nothing (0 km, left out below): no test first.
    touches = "" if d.postgres else f"AND ST_Intersects({g}, c.geom)"
    km = f"COALESCE({_f('length', _f('lines', f'ST_Transform({piece}, 4326)'))}, 0) / 1000.0"

    def span(axis: str) -> str:
        # The cells under the clipped track's bounding box: looked up by key, not by shape
        # (computed once per track, so that a join compares integers).
        low, high = (_f(f"{axis}{end}", "g") for end in ("min", "max"))
        return f"{d.floor(f'{low} / size')} AS {axis}0, {d.floor(f'{high} / size')} AS {axis}1"

    sql.execute(
        f"""
        INSERT INTO {sql.PIECES} (segment_id, cell_id, km)
        WITH clipped AS MATERIALIZED (
            SELECT ts.id AS segment_id, ts.area_id, {_size("pa")} AS size,
                ST_Transform(ST_Intersection(pa.boundary, d.track), {EQUAL_AREA_SRID}) AS g
            FROM observations_tracksegment ts
            JOIN observations_patrollegday d ON d.id = ts.leg_day_id
            JOIN protected_areas_protectedarea pa ON pa.id = ts.area_id
            {sql.in_scope_month("ts.area_id", d.month("ts.day"))}
            WHERE {ts_where} AND ts.zone_id IS NULL AND ts.has_track AND ts.distance_km > 0
                AND d.track IS NOT NULL AND d.distance_km > 0
                AND NOT EXISTS (SELECT 1 FROM {sql.PIECES} p WHERE p.segment_id = ts.id)
        ),
        days AS MATERIALIZED (
            SELECT segment_id, area_id, size, g, {span("x")}, {span("y")} FROM clipped WHERE g IS NOT NULL
        ),
        pieces AS MATERIALIZED (
            SELECT days.segment_id, c.id AS cell_id, {km} AS km
            FROM days
            JOIN indicators_gridcell c ON c.area_id = days.area_id AND c.size_m = {size}
                AND c.ix BETWEEN days.x0 AND days.x1 AND c.iy BETWEEN days.y0 AND days.y1
            WHERE 1 = 1 {touches}
        )
        SELECT segment_id, cell_id, km FROM pieces WHERE km > 0
        """,
        [job, *ts_params],
    )


def cells(job: int, where: sql.Where) -> None:
    """The figures of every grid cell with effort or records, for every period in scope
    (CellFigure; models.IndicatorRow presents them as effort.*, cell.records and
    cpue.records.km rows with a cell).

    Effort from the track pieces (cut_tracks): km is the sum of the pieces in the cell;
    hours and person-days are apportioned by the share of the leg-day's distance inside
    the cell (formulas.apportion): ODK geotraces carry no per-point times, so the time
    spent in a cell is taken to be the share of the day's distance walked there. A leg-day
    counts as one leg-day in every cell it crosses. Records per cell, all verticals
    together and per vertical, from the observations' points (a point's cell is
    floor(x / size), floor(y / size) in EPSG:6933: no spatial join).

    The gridded encounter rate (formulas.encounter_rate, domain.md §6; derived when read)
    is records per 10 km walked in the cell, with Garwood's 95 % interval (PoissonBound)
    scaled alike. Cells without effort have no rate (no data, never 0); a patrolled cell
    where nothing was seen has 0 with its upper bound. Quarters add their months, years their
    quarters (in time order: floating-point sums depend on their order), read back from
    storage, so that an update recomputes one month and sums the others as stored."""
    d = sql.dialect()
    ts_where, ts_params = where.sql("ts.area_id", "ts.day")
    op_where, op_params = where.sql("op.area_id", "op.day")
    x, y = d.x("o.location"), d.y("o.location")
    size = _size("pa")
    verticals = ("illicit", "resource_use", "biodiversity", "other")
    per_vertical = ", ".join(f"SUM(CASE WHEN vertical = '{v}' THEN 1 ELSE 0 END) AS r_{v}" for v in verticals)
    r = ", ".join(f"r_{v}" for v in verticals)
    sums = ", ".join(f"SUM(records_{v})" for v in verticals)
    with sql.hash_joins(where):
        sql.execute(
            f"""
            INSERT INTO {sql.CELLS} ({sql.CELL_COLUMNS})
            WITH em AS (
                SELECT ts.area_id, {d.month("ts.day")} AS m, p.cell_id, {sql.exact_sum("p.km")} AS km,
                    {sql.exact_sum("d.patrol_hours * p.km / d.distance_km")} AS ph,
                    {sql.exact_sum("d.field_hours * p.km / d.distance_km")} AS fh,
                    {sql.exact_sum("d.person_days * p.km / d.distance_km")} AS pd, COUNT(*) AS legdays
                FROM {sql.PIECES} p
                JOIN observations_tracksegment ts ON ts.id = p.segment_id
                JOIN observations_patrollegday d ON d.id = ts.leg_day_id
                {sql.in_scope_month("ts.area_id", d.month("ts.day"))}
                WHERE {ts_where}
                GROUP BY ts.area_id, {d.month("ts.day")}, p.cell_id
            ),
            pts AS (
                SELECT op.area_id, {d.month("op.day")} AS m, o.vertical, {size} AS size,
                    {d.floor(f"{x} / {size}")} AS ix, {d.floor(f"{y} / {size}")} AS iy
                FROM observations_observationplace op
                JOIN observations_observation o ON o.id = op.observation_id
                JOIN protected_areas_protectedarea pa ON pa.id = op.area_id
                {sql.in_scope_month("op.area_id", d.month("op.day"))}
                WHERE {op_where} AND op.zone_id IS NULL AND o.location IS NOT NULL
            ),
            rb AS (
                SELECT area_id, m, size, ix, iy, COUNT(*) AS records, {per_vertical}
                FROM pts GROUP BY area_id, m, size, ix, iy
            ),
            rm AS (
                SELECT rb.area_id, rb.m, g.id AS cell_id, rb.records, {r}
                FROM rb JOIN indicators_gridcell g ON g.area_id = rb.area_id AND g.size_m = rb.size
                    AND g.ix = rb.ix AND g.iy = rb.iy
            )
            SELECT COALESCE(em.area_id, rm.area_id) AS area_id, COALESCE(em.cell_id, rm.cell_id) AS cell_id,
                'M', COALESCE(em.m, rm.m) AS m, em.km, em.ph, em.fh, em.pd, em.legdays,
                COALESCE(rm.records, 0), {", ".join(f"COALESCE(rm.r_{v}, 0)" for v in verticals)}
            FROM em FULL OUTER JOIN rm ON rm.area_id = em.area_id AND rm.m = em.m AND rm.cell_id = em.cell_id
            ORDER BY 1, 4, 2
            """,
            [job, *ts_params, job, *op_params],
        )
    # Quarters from their stored months (those just written and the others), then years
    # from their quarters, each in time order (floating-point sums depend on their order).
    for kind, part in (("Q", "M"), ("Y", "Q")):
        parts = sql.stored_parts(
            sql.CELLS,
            "v.area_id, v.cell_id, v.km, v.patrol_hours, v.field_hours, v.person_days, v.leg_days,"
            f" v.records, {', '.join(f'v.records_{v}' for v in verticals)}",
            f"'{kind}'",
            part,
        )
        sql.execute(
            f"""
            INSERT INTO {sql.CELLS} ({sql.CELL_COLUMNS})
            SELECT area_id, cell_id, '{kind}', start, SUM(km), SUM(patrol_hours), SUM(field_hours),
                SUM(person_days), SUM(leg_days), SUM(records), {sums}
            FROM {sql.by_month(parts, "start, area_id, cell_id")} p
            GROUP BY area_id, cell_id, start
            ORDER BY area_id, start, cell_id
            """,
            [job],
        )


def _period_swaths(job: int) -> None:
    """The swaths of the quarters and years of the scope's years (PeriodSwath): deleted where
    the months under them changed (their fingerprints' totals differ) or are gone, then
    merged again where missing, quarters from their months, years from their quarters,
    each in time order (a union's vertices follow its inputs' order: an update and a full
    computation must measure the same shape)."""
    d = sql.dialect()
    starts = {"Q": d.quarter("v.month"), "Y": d.year("v.month")}
    under = " UNION ALL ".join(
        f"""SELECT v.area_id, '{kind}' AS kind, {start} AS start, SUM(v.segment_count) AS n,
                SUM(v.segment_id_sum) AS total, MAX(v.segment_id_max) AS top, MAX(v.srid) AS srid
            FROM {sql.SCOPE} y JOIN {sql.SWATHS} v ON v.area_id = y.area_id
                AND v.month >= y.period_start AND v.month <= y.period_end
            WHERE y.job = %s AND y.period_kind = 'Y'
            GROUP BY v.area_id, {start}"""
        for kind, start in starts.items()
    )
    sql.execute(
        f"""
        DELETE FROM {sql.PERIOD_SWATHS} WHERE id IN (
            SELECT p.id FROM {sql.SCOPE} y
            JOIN {sql.PERIOD_SWATHS} p ON p.area_id = y.area_id
                AND p.period_start >= y.period_start AND p.period_start <= y.period_end
            LEFT JOIN ({under}) f ON f.area_id = p.area_id AND f.kind = p.period_kind
                AND f.start = p.period_start
            WHERE y.job = %s AND y.period_kind = 'Y' AND (f.area_id IS NULL OR f.n <> p.segment_count
                OR f.total <> p.segment_id_sum OR f.top <> p.segment_id_max OR f.srid <> p.srid)
        )
        """,
        [job, job, job],
    )
    columns = "area_id, period_kind, period_start, srid, geom, segment_count, segment_id_sum, segment_id_max"
    # Quarters from the stored months (MonthlySwath), then years from the stored quarters.
    parts = (
        ("Q", sql.SWATHS, "v.month", ""),
        ("Y", sql.PERIOD_SWATHS, "v.period_start", "AND v.period_kind = 'Q'"),
    )
    for kind, table, part_start, only in parts:
        start = d.quarter(part_start) if kind == "Q" else d.year(part_start)
        sql.execute(
            f"""
            INSERT INTO {sql.PERIOD_SWATHS} ({columns})
            SELECT area_id, '{kind}', pstart, MAX(srid), {_f("wkb", "ST_Union(g)")},
                SUM(n), SUM(total), MAX(top)
            FROM (
                SELECT v.area_id, {start} AS pstart, v.srid,
                    {_f("from_wkb", "v.geom, v.srid")} AS g,
                    v.segment_count AS n, v.segment_id_sum AS total, v.segment_id_max AS top
                FROM {sql.SCOPE} y JOIN {table} v ON v.area_id = y.area_id {only}
                    AND {part_start} >= y.period_start AND {part_start} <= y.period_end
                WHERE y.job = %s AND y.period_kind = 'Y' AND NOT EXISTS (
                    SELECT 1 FROM {sql.PERIOD_SWATHS} p WHERE p.area_id = v.area_id
                        AND p.period_kind = '{kind}' AND p.period_start = {start})
                ORDER BY v.area_id, {start}, {part_start}
            ) x
            GROUP BY area_id, pstart
            """,
            [job],
        )


def _in_scope(alias: str) -> str:
    return (
        f"JOIN {sql.SCOPE} s ON s.job = %s AND s.area_id = {alias}.area_id"
        f" AND s.period_kind = {alias}.period_kind AND s.period_start = {alias}.period_start"
    )


def area_coverage(job: int, months: sql.Where) -> None:
    """coverage.area: the share (0–1) of an area, and of each of its zones, within 500 m of
    a track walked in the period — ecoscope's merged swath coverage (overlaps counted once;
    domain.md §2, §6; formulas.area_coverage). The tracks of the leg-days with effort in
    the area, simplified by SIMPLIFY_M, are buffered in the UTM zone of the area's centre
    (a metric buffer), merged per month (stored, MonthlySwath, and kept while the month's
    tracks are the same), then the months per quarter and year, and
    intersected with the boundary; numerator the covered km², denominator the boundary's
    km² in the same projection. Only for periods with a swath: where the area has km
    patrolled along a track.

    It reads only records and the stored swaths, and no other family reads what it writes:
    an update may compute it on a connection of its own (indicators.compute.BESIDE).
    `months`: the records of the months in scope (quarters and years merge stored months)."""
    d = sql.dialect()
    n = sql.N
    ts_where, ts_params = months.sql("ts.area_id", "ts.day")
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
    v_where, v_params = months.sql("v.area_id", "v.month")
    sql.execute(
        f"""
        DELETE FROM {sql.SWATHS} WHERE id IN (
            SELECT v.id FROM {sql.SWATHS} v
            LEFT JOIN (
                SELECT f.area_id, f.m, f.n, f.total, f.top, {utm} AS srid FROM (
                    SELECT ts.area_id, {d.month("ts.day")} AS m, COUNT(*) AS n, SUM(ts.id) AS total,
                        MAX(ts.id) AS top
                    {tracks}
                    WHERE {buffered}
                    GROUP BY ts.area_id, {d.month("ts.day")}
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
            SELECT ts.area_id, ts.id, {d.month("ts.day")} AS m, {utm} AS srid,
                ST_Buffer(ST_Simplify(ST_Transform(d.track, {utm}), {SIMPLIFY_M}), {SWATH_M}) AS g
            {tracks}
            JOIN protected_areas_protectedarea pa ON pa.id = ts.area_id
            {sql.in_scope_month("ts.area_id", d.month("ts.day"))}
            WHERE {buffered} AND NOT EXISTS (
                SELECT 1 FROM {sql.SWATHS} v WHERE v.area_id = ts.area_id AND v.month = {d.month("ts.day")})
        )
        SELECT area_id, m, MAX(srid), {_f("wkb", "ST_Union(g)")}, COUNT(*), SUM(id), MAX(id)
        FROM lt GROUP BY area_id, m
        """,
        [job, *ts_params],
    )
    _period_swaths(job)
    sql.execute(
        f"""
        INSERT INTO {sql.IV} ({sql.COLUMNS})
        WITH swath AS (
            -- A month's swath is its stored MonthlySwath; a quarter's or year's, its PeriodSwath.
            SELECT 'M' AS kind, v.month AS start, v.area_id, v.srid, {_f("from_wkb", "v.geom, v.srid")} AS u
            FROM {sql.SCOPE} s JOIN {sql.SWATHS} v ON v.area_id = s.area_id AND v.month = s.period_start
            WHERE s.job = %s AND s.period_kind = 'M'
            UNION ALL
            SELECT v.period_kind, v.period_start, v.area_id, v.srid, {_f("from_wkb", "v.geom, v.srid")}
            FROM {sql.SCOPE} s JOIN {sql.PERIOD_SWATHS} v ON v.area_id = s.area_id
                AND v.period_kind = s.period_kind AND v.period_start = s.period_start
            WHERE s.job = %s AND s.period_kind IN ('Q', 'Y')
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
        [job, job],
    )


def cell_coverage(job: int) -> None:
    """coverage.cells: the share (0–1) of the area's grid cells with effort.km in the period
    (formulas.cell_coverage, SMART's gridded effort; domain.md §6); numerator patrolled
    cells, denominator cells; only for periods where the area has km patrolled. Read from
    the CellFigure and effort.km rows the same computation has just written."""
    n = sql.N
    sql.execute(
        f"""
        INSERT INTO {sql.IV} ({sql.COLUMNS})
        WITH cells AS (
            SELECT c.area_id, COUNT(*) AS cells FROM indicators_gridcell c
            JOIN protected_areas_protectedarea pa ON pa.id = c.area_id
            WHERE c.size_m = {_size("pa")}
                AND c.area_id IN (SELECT area_id FROM {sql.SCOPE} WHERE job = %s AND period_kind = 'Y')
            GROUP BY c.area_id
        ),
        walked AS MATERIALIZED (
            SELECT e.area_id, e.period_kind, e.period_start, COUNT(*) AS patrolled
            FROM {sql.CELLS} e {_in_scope("e")}
            WHERE e.km > 0
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
        [job, job, job],
    )
