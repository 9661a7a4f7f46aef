"""Indicators benchmark: a national data set written straight into PostGIS, then the full
recomputation and the incremental update after one submission, timed.

    DATABASE_URL=postgis://postgres@127.0.0.1:5432/fieldkit .venv/bin/python bench/indicators.py \
        [--scale 1.0] [--once] [--workers 2] [--reuse]

At scale 1: 100 areas (with a zone each and their 1 km grids), 5 years, 120,000 leg-days
with their tracks (random walks of 5–25 km inside the area, a vertex every 250 m) and
their effort per area and zone (the track clipped to each), 1,000,000 observations made
along those tracks on those leg-days (40 % species records of 20 taxa) with their places.
Everything is generated with SQL (generate_series) in a database of its own
(`<name>_bench`, dropped and made again), not sent through HTTP, and written in the order
ingest writes it: submission after submission as they arrive, day by day across the
areas, each patrol-day with its effort, its records, their places and species.
--scale 0.1 gives 10 areas and 100,000 observations.

Printed: the time to generate; the full recomputation (every area, one transaction per
area, shared among --workers processes as Celery workers share the nightly run:
compute.compute_areas, what `manage.py compute_indicators --workers N` runs) with the
time of each step summed over the workers and the rows written; the incremental update
after one submission (a patrol day and five observations in one area: marking its keys,
and the update that recomputes that month, its quarter and its year), three times, the
first on a fresh database connection; and the peak
memory (maximum resident set) of this process and of the largest worker it forked.
--reuse keeps the data set of a previous run at the same scale (its values are deleted
first) instead of generating it again.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

YEARS = 5
FIRST_YEAR = 2020
# Each area is a square of AREA_DEG degrees (≈ 11 km at 10° S); tracks step STEP_KM.
AREA_DEG = 0.1
STEP_KM = 0.25
KM_PER_DEG = 110.0


def database_urls() -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgis://"):
        sys.exit("bench/indicators.py needs DATABASE_URL=postgis://… (a PostGIS server)")
    base, _, name = url.rpartition("/")
    return url, f"{base}/{name}_bench"


def recreate(url: str, bench_url: str) -> None:
    import psycopg

    bench_name = bench_url.rpartition("/")[2]
    conninfo = url.replace("postgis://", "postgresql://").rpartition("/")[0] + "/postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench_name}"')
        conn.execute(f'CREATE DATABASE "{bench_name}"')


def exists(url: str, bench_url: str) -> bool:
    """Whether a bench database with generated data is there (for --reuse)."""
    import psycopg

    conninfo = bench_url.replace("postgis://", "postgresql://")
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM observations_observation").fetchone()
    except psycopg.Error:
        return False
    return bool(row and row[0])


def setup(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldkit.settings")
    # The update after a submission is the one this benchmark calls and times: none queued
    # besides it (without a broker, a thread of this process would run one at once).
    os.environ["INDICATORS_UPDATE_AFTER_SUBMISSION"] = "false"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def generate(areas: int, legdays_per_area_month: int, observations: int) -> None:
    from django.contrib.gis.geos import MultiPolygon, Polygon
    from django.db import connection

    from observations.models import Taxon
    from protected_areas.models import ProtectedArea, Zone
    from tests import observation_builders as ob

    version = ob.publish(ob.incident_form_md(), name="incident.md")
    made = []
    for i in range(areas):
        west, south = 140.0 + (i % 10) * 0.2, -10.0 + (i // 10) * 0.2
        box = MultiPolygon(Polygon.from_bbox((west, south, west + 0.1, south + 0.1)), srid=4326)
        area = ProtectedArea.objects.create(
            source="bench", source_id=str(i), name=f"Bench area {i}", boundary=box
        )
        inner = MultiPolygon(Polygon.from_bbox((west, south, west + 0.05, south + 0.05)), srid=4326)
        Zone.objects.create(area=area, code="core", name="Core", boundary=inner)
        made.append(area)
    taxa = list(Taxon.objects.order_by("pk").values_list("pk", flat=True)[:20])
    categories = [
        ("human_activity.weapons.snare", "illicit"),
        ("human_activity.weapons.firearm", "illicit"),
        ("human_activity.camp", "illicit"),
        ("human_activity.gunshot", "illicit"),
        ("human_activity.encroachment", "illicit"),
        ("animals.live", "biodiversity"),
        ("animals.sign.track", "biodiversity"),
        ("animals.sign.dung", "biodiversity"),
        ("features.water", "other"),
        ("resource_use.timber", "resource_use"),
    ]
    with connection.cursor() as c:
        c.execute("SELECT slug FROM observations_category")
        known = {row[0] for row in c.fetchall()}
        categories = [(slug, v) for slug, v in categories if slug in known]
        c.execute("SELECT setseed(0.42)")
        c.execute(
            """INSERT INTO odk_forms_submission (form_id, form_version_id, instance_id, xml_file, xml_sha256,
                xml_size, is_encrypted, is_draft, instance_name, deprecated_id, is_current, state,
                processing_error, processing_attempts, leases_lost, metadata, device_id, received_at, updated)
            VALUES (%s, %s, 'uuid:bench', 'bench.xml', '', 0, false, false, '', '', true, 'processed', '',
                1, 0, '{}', '', now(), now()) RETURNING id""",
            [version.form_id, version.pk],
        )
        sub = c.fetchone()[0]
        c.execute(
            "CREATE TEMP TABLE bench_area AS SELECT row_number() OVER (ORDER BY a.id) - 1 AS n, a.id, "
            "z.id AS zone_id, ST_XMin(a.boundary) AS x0, ST_YMin(a.boundary) AS y0 "
            "FROM protected_areas_protectedarea a JOIN protected_areas_zone z ON z.area_id = a.id"
        )
        # One patrol, leg and leg-day per (area, month, k); days spread over the month.
        months = YEARS * 12
        c.execute(
            f"""CREATE TEMP TABLE bench_day AS
            SELECT ba.id AS area_id, ba.zone_id, ba.x0, ba.y0,
                (date '{FIRST_YEAR}-01-01' + (m || ' months')::interval
                    + ((random() * 27)::int || ' days')::interval)::date AS day,
                5 + random() * 20 AS km, random() * 2 * pi() AS heading,
                random() * {AREA_DEG} AS sx, random() * {AREA_DEG} AS sy
            FROM bench_area ba, generate_series(0, {months - 1}) m,
                generate_series(1, {legdays_per_area_month}) k
            ORDER BY day, ba.id, k"""
        )
        c.execute("ALTER TABLE bench_day ADD COLUMN n serial")
        # Each leg-day's track: a correlated random walk of STEP_KM steps (a GPS fix every
        # few minutes), its heading drifting, reflected at the area's edges so that it stays
        # inside; its length is the day's distance.
        c.execute(
            f"""CREATE TEMP TABLE bench_track AS
            WITH steps AS (
                SELECT b.n, b.x0, b.y0, b.sx, b.sy, s.i,
                    b.heading + SUM(random() - 0.5) OVER (PARTITION BY b.n ORDER BY s.i) AS h
                FROM bench_day b, generate_series(1, ceil(b.km / {STEP_KM})::int) s(i)
            ),
            walk AS (
                SELECT n, x0, y0, i,
                    sx + SUM(cos(h)) OVER w * {STEP_KM / KM_PER_DEG} AS u,
                    sy + SUM(sin(h)) OVER w * {STEP_KM / KM_PER_DEG} AS v
                FROM steps WINDOW w AS (PARTITION BY n ORDER BY i)
            ),
            folded AS (
                SELECT n, x0, y0, i,
                    mod(abs(u)::numeric, {2 * AREA_DEG})::float AS u,
                    mod(abs(v)::numeric, {2 * AREA_DEG})::float AS v
                FROM walk
            )
            SELECT n, ST_Multi(ST_MakeLine(ST_MakePoint(
                    x0 + 0.0005 + CASE WHEN u > {AREA_DEG} THEN {2 * AREA_DEG} - u ELSE u END * 0.99,
                    y0 + 0.0005 + CASE WHEN v > {AREA_DEG} THEN {2 * AREA_DEG} - v ELSE v END * 0.99)
                ORDER BY i))::geometry(MultiLineString, 4326) AS track
            FROM folded GROUP BY n"""
        )
        c.execute("CREATE UNIQUE INDEX ON bench_track (n)")
        c.execute(
            """INSERT INTO observations_patrol (submission_id, root_submission_id, form_version_id,
                instance_path, record_uuid, patrol_id, station, team, objective, notes, area_id)
            SELECT %s, %s, %s, 'bench/' || n, gen_random_uuid(), '', '', '', '', '', area_id
            FROM bench_day ORDER BY n""",
            [sub, sub, version.pk],
        )
        c.execute(
            """INSERT INTO observations_patrolleg (patrol_id, number, transport, mandate, leader, members,
                member_count, record_uuid)
            SELECT id, 1, 'foot', '', '', '[]', 4, gen_random_uuid() FROM observations_patrol
            WHERE root_submission_id = %s ORDER BY id""",
            [sub],
        )
        c.execute(
            """CREATE TEMP TABLE bench_legday AS SELECT d.*, p.id AS patrol_id, l.id AS leg_id, t.track,
                ST_Length(t.track::geography) / 1000 AS track_km,
                ST_Length(ST_Intersection(t.track, z.boundary)::geography) / 1000 AS zone_km
            FROM bench_day d JOIN observations_patrol p ON p.instance_path = 'bench/' || d.n
            JOIN observations_patrolleg l ON l.patrol_id = p.id
            JOIN bench_track t ON t.n = d.n
            JOIN protected_areas_zone z ON z.id = d.zone_id"""
        )
        c.execute(
            """INSERT INTO observations_patrollegday (leg_id, patrol_id, day, rest_minutes, track,
                distance_km, patrol_hours, field_hours, members, person_days, record_uuid)
            SELECT leg_id, patrol_id, day, 60, track, track_km, track_km / 3, track_km / 3 - 1, 4, 4,
                gen_random_uuid()
            FROM bench_legday ORDER BY n"""
        )
        # Effort per area and zone as ingest leaves it: the track clipped to each, hours and
        # person-days apportioned by distance.
        c.execute(
            """INSERT INTO observations_tracksegment (leg_day_id, area_id, zone_id, distance_km, patrol_hours,
                field_hours, person_days, has_track, day)
            SELECT d.id, b.area_id, NULL, d.distance_km, d.patrol_hours, d.field_hours, d.person_days, true,
                d.day
            FROM observations_patrollegday d JOIN bench_legday b ON b.patrol_id = d.patrol_id
            UNION ALL
            SELECT d.id, b.area_id, b.zone_id, b.zone_km, d.patrol_hours * b.zone_km / d.distance_km,
                d.field_hours * b.zone_km / d.distance_km, d.person_days * b.zone_km / d.distance_km, true,
                d.day
            FROM observations_patrollegday d JOIN bench_legday b ON b.patrol_id = d.patrol_id
            WHERE b.zone_km > 0
            ORDER BY 1, 3 NULLS FIRST"""
        )
        rows = ", ".join(["(%s, %s, %s)"] * len(categories))
        c.execute(
            f"CREATE TEMP TABLE bench_cat AS SELECT * FROM (VALUES {rows}) AS t(i, slug, vertical)",
            [v for i, (slug, vertical) in enumerate(categories) for v in (i, slug, vertical)],
        )
        c.execute(
            "CREATE TEMP TABLE bench_taxon AS SELECT * FROM (VALUES "
            + ", ".join(["(%s, %s)"] * len(taxa))
            + ") AS t(i, id)",
            [v for i, pk in enumerate(taxa) for v in (i, pk)],
        )
        ncat, ntax = len(categories), len(taxa)
        c.execute(
            f"""CREATE TEMP TABLE bench_obs AS
            WITH drawn AS (
                SELECT g AS n, 1 + floor(random() * (SELECT count(*) FROM bench_legday))::int AS day_n,
                    random() AS along, (random() * {ncat - 1})::int AS cat,
                    floor(power(random(), 2) * {ntax})::int AS tax, 1 + floor(random() * 4)::int AS cnt
                FROM generate_series(1, {observations}) g
            )
            SELECT o.n, b.area_id, b.zone_id, d.id AS leg_day_id, b.day, o.cat, o.tax, o.cnt,
                ST_LineInterpolatePoint(ST_GeometryN(b.track, 1), o.along) AS location
            FROM drawn o JOIN bench_legday b ON b.n = o.day_n
            JOIN observations_patrollegday d ON d.patrol_id = b.patrol_id"""
        )
        # Every record is made on a leg-day, at a point of its track.
        c.execute(
            """INSERT INTO observations_observation (submission_id, root_submission_id, form_version_id,
                instance_path, record_uuid, category, vertical, notes, observer, photos, location, day,
                time, area_id, count, leg_day_id)
            SELECT %s, %s, %s, 'o/' || o.n, gen_random_uuid(), bc.slug, bc.vertical, '', '', '[]',
                o.location, o.day, o.day + time '10:00', o.area_id, o.cnt, o.leg_day_id
            FROM bench_obs o JOIN bench_cat bc ON bc.i = o.cat ORDER BY o.leg_day_id, o.n""",
            [sub, sub, version.pk],
        )
        c.execute(
            """INSERT INTO observations_observationplace (observation_id, area_id, zone_id, day)
            SELECT id, area_id, NULL, day FROM observations_observation WHERE root_submission_id = %s
            UNION ALL
            SELECT o.id, o.area_id, ba.zone_id, o.day
            FROM observations_observation o JOIN bench_area ba ON ba.id = o.area_id
            WHERE o.root_submission_id = %s
                AND ST_X(o.location) < ba.x0 + 0.05 AND ST_Y(o.location) < ba.y0 + 0.05
            ORDER BY 1, 3 NULLS FIRST""",
            [sub, sub],
        )
        c.execute(
            """INSERT INTO observations_speciesobservation (observation_id, taxon_id, taxon_name,
                individual_count, evidence, is_occurrence)
            SELECT o.id, bt.id, '', o.count::int, 'direct', true
            FROM observations_observation o JOIN bench_obs b ON b.n = substr(o.instance_path, 3)::int
            JOIN bench_taxon bt ON bt.i = b.tax
            WHERE o.root_submission_id = %s AND o.vertical = 'biodiversity'
            ORDER BY o.id""",
            [sub],
        )
        c.execute("ANALYZE")
    from indicators import grid

    grid.ensure_grids()


_SUBMITTED = itertools.count()


def one_submission() -> tuple[float, float]:
    """A patrol day with its track and five observations in the first area, as a processed submission
    leaves them; returns the seconds to mark its keys and to update."""
    from datetime import date

    from django.db import transaction

    from indicators import incremental
    from protected_areas.models import ProtectedArea
    from tests import indicator_builders as ib

    area = ProtectedArea.objects.order_by("pk").first()
    assert area is not None
    day = date(FIRST_YEAR + 2, 6, 15)
    with transaction.atomic():
        sub = ib.submission()
        west, south = area.boundary.extent[:2]
        # 12 km to and fro across the area's south, a vertex every 250 m, each patrol a little
        # further north than the last and with a GPS's scatter: no two patrols walk the very
        # same points (identical tracks would make merging their swaths a degenerate case).
        n = next(_SUBMITTED)
        scatter = random.Random(n)
        track = [
            (
                west + 0.005 + 0.00225 * (i if i < 40 else 80 - i) + scatter.uniform(-1e-4, 1e-4),
                south + 0.01 + 0.002 * n + 0.0004 * i + scatter.uniform(-1e-4, 1e-4),
            )
            for i in range(49)
        ]
        ib.leg_day(area, day, km=12, sub=sub, track=track)
        for i in range(5):
            ib.observation(
                area,
                day,
                taxon="casuarius_casuarius" if i % 2 else None,
                individuals=2,
                point=(west + 0.01 * (i + 1), south + 0.01),
                sub=sub,
            )
        started = time.perf_counter()
        incremental.after_submission(sub, b"")
        marked = time.perf_counter() - started
    started = time.perf_counter()
    incremental.update()
    return marked, time.perf_counter() - started


def print_written(compute: Any) -> None:
    """What the merges of a staged computation wrote (PostgreSQL) beside the rows computed
    (every area's: the tables' rows), and clear the counts."""
    from django.db import connection

    if compute.WRITTEN:
        tables = sorted({name.rsplit(" ", 1)[0] for name in compute.WRITTEN})
        figures = []
        with connection.cursor() as c:
            for table in tables:
                c.execute(f"SELECT count(*) FROM {table}")
                written = [compute.WRITTEN.get(f"{table} {what}", 0) for what in ("deleted", "inserted")]
                figures.append(
                    f"{table.split('_', 1)[1]} " + " / ".join(f"{n:,}" for n in (c.fetchone()[0], *written))
                )
        print("  rows computed / deleted / inserted: " + "; ".join(figures))
    compute.WRITTEN.clear()
    compute.TIMINGS.clear()


def nightly_after_a_change(compute: Any, area_ids: list[int], workers: int) -> None:
    """The nightly run after what no submission marks: the IUCN category of the most
    recorded species changed (its counts per IUCN category and species per category move,
    in every area, zone and period it was seen in), then back."""
    from django.db.models import Count

    from observations.models import SpeciesObservation, Taxon

    taxon_id = (
        SpeciesObservation.objects.values("taxon_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("taxon_id", flat=True)[0]
    )
    taxon = Taxon.objects.get(pk=taxon_id)
    was = taxon.iucn_category
    for category in ("EN" if was != "EN" else "VU", was):
        Taxon.objects.filter(pk=taxon.pk).update(iucn_category=category)
        started = time.perf_counter()
        compute.compute_areas(area_ids, workers=workers)
        print(
            f"full recompute after {taxon.scientific_name}'s IUCN category became {category}:"
            f" {time.perf_counter() - started:.2f} s"
        )
        print_written(compute)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 100 areas and 1,000,000 observations")
    parser.add_argument(
        "--once", action="store_true", help="skip the second full recomputation (replacing every value)"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes sharing the full recomputation")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data set of the last run (same scale) if there is one"
    )
    args = parser.parse_args()
    scale = args.scale
    areas = max(1, round(100 * scale))
    observations = round(1_000_000 * scale)
    url, bench_url = database_urls()
    reuse = args.reuse and exists(url, bench_url)
    if not reuse:
        recreate(url, bench_url)
    setup(bench_url)

    from django.conf import settings
    from django.db import connection

    from indicators import compute
    from indicators.models import IndicatorValue
    from protected_areas.models import ProtectedArea

    started = time.perf_counter()
    if reuse:
        from odk_forms.models import Submission

        # The submissions of the last run's incremental updates, and everything computed.
        Submission.objects.exclude(instance_id="uuid:bench").delete()
        with connection.cursor() as c:
            c.execute(
                "TRUNCATE indicators_indicatorvalue, indicators_cellfigure, indicators_trackpiece,"
                " indicators_monthlyswath, indicators_periodswath, indicators_dirtykey, indicators_footprint"
            )
            c.execute("VACUUM ANALYZE")
    else:
        generate(areas, 20, observations)
    generated = time.perf_counter() - started
    with connection.cursor() as c:
        counts = {}
        for table in (
            "observations_observation",
            "observations_patrollegday",
            "observations_tracksegment",
            "observations_observationplace",
            "observations_speciesobservation",
            "indicators_gridcell",
        ):
            c.execute(f"SELECT count(*) FROM {table}")
            counts[table] = c.fetchone()[0]
    made = ", ".join(f"{t.split('_', 1)[1]} {n:,}" for t, n in counts.items())
    print(f"{'reused' if reuse else 'generated'} in {generated:.1f} s: {made}")

    area_ids = list(ProtectedArea.objects.order_by("pk").values_list("pk", flat=True))
    started = time.perf_counter()
    compute.compute_areas(area_ids, workers=args.workers)
    full = time.perf_counter() - started
    rows = IndicatorValue.objects.count()
    print(
        f"full recompute: {full:.2f} s ({rows:,} indicator values, {areas} areas × {YEARS} years,"
        f" {args.workers} worker(s))"
    )
    print("  " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in compute.TIMINGS.items()))
    with connection.cursor() as c:
        c.execute(
            "SELECT split_part(indicator, '.', 1), count(*) FROM indicators_indicatorvalue"
            " GROUP BY 1 ORDER BY 2 DESC"
        )
        print("  rows: " + ", ".join(f"{family} {n:,}" for family, n in c.fetchall()))
        c.execute("SELECT count(*) FROM indicators_cellfigure")
        cells = c.fetchone()[0]
        c.execute("SELECT count(*) FROM indicators_trackpiece")
        pieces = c.fetchone()[0]
        print(f"  grid: {cells:,} cell-period rows (CellFigure), {pieces:,} track pieces")
        c.execute("SELECT count(*) FROM indicators_indicatorrow")
        served = c.fetchone()[0]
        print(f"  values served (IndicatorRow: with the derived rates and the cells' rows): {served:,}")
    compute.TIMINGS.clear()
    compute.WRITTEN.clear()

    if not args.once:
        # A nightly run finds the tables as autovacuum left them during the day: vacuumed and
        # analysed. Right after the first computation, autovacuum would be busy with its 1.6
        # million new rows during this run, on the same two cores.
        with connection.cursor() as c:
            c.execute(
                "VACUUM ANALYZE indicators_indicatorvalue, indicators_cellfigure, indicators_trackpiece,"
                " indicators_monthlyswath, indicators_periodswath"
            )
        started = time.perf_counter()
        compute.compute_areas(area_ids, workers=args.workers)
        again = time.perf_counter() - started
        print(
            "full recompute again (replacing every value; tracks already cut, unchanged months'"
            f" swaths kept): {again:.2f} s"
        )
        print("  " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in compute.TIMINGS.items()))
        print_written(compute)
        nightly_after_a_change(compute, area_ids, args.workers)

    # The first update runs on the connection this process opens after the workers (a fresh
    # server process: its catalog and projection caches are cold); a Celery worker keeps
    # its connection (CONN_MAX_AGE), so the next ones show what an update usually costs.
    runs = []
    for _ in range(3):
        compute.TIMINGS.clear()
        marked, updated = one_submission()
        runs.append((marked, updated, dict(compute.TIMINGS)))
    parts = settings.INDICATORS_UPDATE_CONNECTIONS
    print(
        f"incremental update after one submission ({parts} connection(s)):"
        f" {runs[1][1] * 1000:.1f} ms, {runs[2][1] * 1000:.1f} ms on a warm connection;"
        f" {runs[0][1] * 1000:.1f} ms on a fresh one"
    )
    print(
        "  marking its keys, in the submission's transaction:"
        + ", ".join(f" {marked * 1000:.1f} ms" for marked, _, _ in runs)
    )
    steps = runs[1][2]
    print(
        "  "
        + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in steps.items())
        + f" (summed over the connections: {sum(steps.values()) * 1000:.0f} ms)"
    )
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        f"peak memory: this process {peak_kib / 1024:.0f} MiB, largest worker {child_kib / 1024:.0f} MiB"
        f" (at most {(peak_kib + args.workers * child_kib) / 1024:.0f} MiB together)"
    )


if __name__ == "__main__":
    main()
