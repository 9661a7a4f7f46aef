"""Darwin Core Archive benchmark: the archive of a national data set, streamed, timed.

    .venv/bin/python bench/exports_dwc.py [--observations 1000000]

Without DATABASE_URL it starts a throwaway PostGIS cluster on a free loopback port (and
stops it afterwards); with DATABASE_URL it uses that PostGIS server. The work happens in a
test database created and dropped by Django's test machinery (bench/harness.py).

Set-up, not timed, all in SQL (generate_series): 10 areas, one patrol with one leg-day per
ten observations (100,000 at the default size) spread over five years, and
`--observations` observations, 40 % of them species records (occurrences of 20 taxa, a
fifth of those taxa sensitive at 0.01°), each on a leg-day of its area but one in twenty
observations (species records), incidental sightings.

Timed: GET /api/v1/exports/dwca.zip through Django's test client as a national viewer
(every area; every sensitive point generalised), the ZIP read to its end and written to a
temporary file. Printed: rows written (events, Humboldt rows, occurrences) and rows per
second, occurrences per second, the archive's size, and the peak resident memory of this
process while the archive streamed (sampled from /proc at every chunk) and of this process
and its children over the whole run (getrusage).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import rerun_in_throwaway_postgis, test_database

AREAS = 10
YEARS = 5
FIRST_YEAR = 2020
TAXA = 20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner or os.getenv("DATABASE_URL"):
        run(args)
        return
    rerun_in_throwaway_postgis(__file__, ["--observations", str(args.observations)], 55660, "fieldkit_bench")
    print(f"peak RSS of the benchmark and its children: {_children_peak_mb():.0f} MB")


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(args: Any) -> None:
    with test_database():
        from django.db import connection

        if connection.vendor != "postgresql":
            raise SystemExit("bench/exports_dwc.py measures PostGIS: set DATABASE_URL or let it start one")
        started = time.perf_counter()
        user = generate(args.observations)
        print(f"generated {args.observations:,} observations in {time.perf_counter() - started:.1f} s")
        measure(user)


def generate(observations: int) -> Any:
    from django.contrib.gis.geos import MultiPolygon, Polygon
    from django.db import connection

    from accounts.models import AreaMembership, Role, User
    from observations.models import Taxon
    from protected_areas.models import ProtectedArea
    from tests import observation_builders as ob

    version = ob.publish(ob.incident_form_md(), name="incident.md")
    for i in range(AREAS):
        west, south = 140.0 + i * 0.2, -10.0
        box = MultiPolygon(Polygon.from_bbox((west, south, west + 0.1, south + 0.1)), srid=4326)
        ProtectedArea.objects.create(source="bench", source_id=str(i), name=f"Bench area {i}", boundary=box)
    taxa = list(Taxon.objects.order_by("pk").values_list("pk", flat=True)[:TAXA])
    Taxon.objects.filter(pk__in=taxa[::5]).update(sensitivity=3)
    legdays = max(1, observations // 10)
    with connection.cursor() as c:
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
            "CREATE TEMP TABLE bench_area AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, "
            "ST_XMin(boundary) AS x0, ST_YMin(boundary) AS y0 FROM protected_areas_protectedarea "
            "WHERE source = 'bench' AND name LIKE 'Bench area %'"
        )
        c.execute(
            f"""CREATE TEMP TABLE bench_day AS
            SELECT s.n, ba.id AS area_id, ba.x0, ba.y0,
                (date '{FIRST_YEAR}-01-01'
                    + ((random() * ({YEARS} * 365 - 1))::int || ' days')::interval)::date AS day,
                5 + random() * 20 AS km
            FROM generate_series(0, {legdays - 1}) s(n) JOIN bench_area ba ON ba.n = s.n % {AREAS}"""
        )
        c.execute(
            """INSERT INTO observations_patrol (submission_id, root_submission_id, form_version_id,
                instance_path, record_uuid, patrol_id, station, team, objective, notes, area_id, start, "end")
            SELECT %s, %s, %s, 'bench/' || n, gen_random_uuid(), '', '', '', '', '', area_id,
                day + time '07:00', day + time '15:00'
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
            """INSERT INTO observations_patrollegday (leg_id, patrol_id, day, start, "end", rest_minutes,
                distance_km, patrol_hours, field_hours, members, person_days, record_uuid)
            SELECT l.id, p.id, d.day, d.day + time '07:00', d.day + time '15:00', 60, d.km, 8, 7, 4, 4,
                gen_random_uuid()
            FROM bench_day d JOIN observations_patrol p ON p.instance_path = 'bench/' || d.n
            JOIN observations_patrolleg l ON l.patrol_id = p.id"""
        )
        c.execute(
            """CREATE TEMP TABLE bench_legday AS
            SELECT d.n, ld.id AS leg_day_id, p.id AS patrol_id FROM bench_day d
            JOIN observations_patrol p ON p.instance_path = 'bench/' || d.n
            JOIN observations_patrollegday ld ON ld.patrol_id = p.id"""
        )
        # 40 % species records (g % 5 < 2), the others camps (illicit); nine in ten on a day.
        c.execute(
            f"""INSERT INTO observations_observation (submission_id, root_submission_id, form_version_id,
                instance_path, record_uuid, category, vertical, notes, observer, photos, location, accuracy_m,
                day, time, area_id, count, patrol_id, leg_day_id)
            SELECT %s, %s, %s, 'o/' || g, gen_random_uuid(),
                CASE WHEN g %% 5 < 2 THEN 'animals.live' ELSE 'human_activity.camp' END,
                CASE WHEN g %% 5 < 2 THEN 'biodiversity' ELSE 'illicit' END, '', '', '[]',
                ST_SetSRID(ST_MakePoint(d.x0 + random() * 0.1, d.y0 + random() * 0.1), 4326), 5,
                d.day, d.day + time '10:00' + (g %% 300 || ' minutes')::interval, d.area_id, 1 + g %% 4,
                CASE WHEN g %% 20 = 5 THEN NULL ELSE l.patrol_id END,
                CASE WHEN g %% 20 = 5 THEN NULL ELSE l.leg_day_id END
            FROM generate_series(0, {observations - 1}) g
            JOIN bench_day d ON d.n = g %% {legdays}
            JOIN bench_legday l ON l.n = d.n""",
            [sub, sub, version.pk],
        )
        c.execute(
            """INSERT INTO observations_observationplace (observation_id, area_id, zone_id, day)
            SELECT id, area_id, NULL, day FROM observations_observation WHERE root_submission_id = %s""",
            [sub],
        )
        c.execute(
            f"""INSERT INTO observations_speciesobservation (observation_id, taxon_id, taxon_name,
                individual_count, evidence, is_occurrence)
            SELECT o.id, (%s::int[])[1 + o.id %% {len(taxa)}], '', o.count::int, 'direct', true
            FROM observations_observation o
            WHERE o.root_submission_id = %s AND o.vertical = 'biodiversity'""",
            [taxa, sub],
        )
        c.execute("ANALYZE")
    viewer = User.objects.create_user("bench-dwc-viewer", "dwc-viewer@example.org", uuid.uuid4().hex)
    AreaMembership.objects.create(user=viewer, national=True, role=Role.VIEWER)
    return viewer


def archive_rows(path: Path) -> dict[str, int]:
    """The rows of each table of a written archive, its header left out."""
    counts = {}
    with zipfile.ZipFile(path) as archive:
        for name in ("event.txt", "humboldt.txt", "occurrence.txt"):
            with archive.open(name) as member:
                counts[name] = sum(1 for _ in member) - 1
    return counts


def measure(user: Any) -> None:
    from django.test import Client

    client = Client()
    client.force_login(user)
    before = _rss_mb()
    peak = before
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dwca.zip"
        started = time.perf_counter()
        response = client.get("/api/v1/exports/dwca.zip", secure=True)
        assert response.status_code == 200, response.status_code
        with path.open("wb") as out:
            for part in response.streaming_content:
                out.write(part)
                peak = max(peak, _rss_mb())
        elapsed = time.perf_counter() - started
        size = path.stat().st_size
        counts = archive_rows(path)
    total = sum(counts.values())
    print(
        "rows written: "
        + ", ".join(f"{name} {count:,}" for name, count in counts.items())
        + f" ({total:,} in all)"
    )
    print(f"archive streamed in {elapsed:.1f} s: {total / elapsed:,.0f} rows/s, "
          f"{counts['occurrence.txt'] / elapsed:,.0f} occurrences/s, {size / 1e6:.1f} MB zipped")  # fmt: skip
    print(
        f"resident memory while streaming: {before:.0f} MB before, "
        f"{peak:.0f} MB at most (+{peak - before:.0f} MB)"
    )
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
