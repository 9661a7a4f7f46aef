"""Mapping benchmark: how fast processed submissions become field records.

    .venv/bin/python bench/ingest_mapping.py [--n 10000] [--spatialite]

Without DATABASE_URL it starts a throwaway PostGIS cluster on a free loopback port (and
stops it afterwards); with DATABASE_URL it uses that server. Either way the work happens in
a test database (`test_<name>`) created and dropped by Django's test machinery.

Set-up, not timed: the five demo areas with their zones, the species list, the six
standard forms, and N submissions from the demo generator (portal.demo: about half
patrols with tracks and days of observations, then incidents, species surveys, resource
use, METT and budget returns) received through odk_forms.receiving.receive_submission.

Timed: observations.records.record_submission() on each, in its own transaction, as the
processing task calls it: parse, map, write, place every observation by point-in-polygon
and clip every track to areas and zones in the database. Then the same again (a re-run
replaces every record). Figures printed: submissions/s, records/s, ms per submission, per
form, in wall time and in CPU time (this process's, and on PostGIS its backend's too).
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from harness import rerun_in_throwaway_postgis, test_database


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10000, help="submissions to map")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--spatialite", action="store_true", help="map on SpatiaLite instead of PostGIS")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner or args.spatialite or os.getenv("DATABASE_URL"):
        if args.spatialite:
            os.environ.pop("DATABASE_URL", None)
        run(args.n, args.seed)
        return

    rerun_in_throwaway_postgis(
        __file__, ["--n", str(args.n), "--seed", str(args.seed)], 55600, "fieldkit_bench"
    )


def run(n: int, seed: int) -> None:
    with test_database():
        from django.db import connection

        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        submissions = prepare(n, seed)
        measure(submissions, "first mapping")
        measure(submissions, "re-run (replaces every record)")


def prepare(n: int, seed: int) -> list[tuple[str, object, bytes]]:
    from accounts.models import AreaMembership, Role, User
    from odk_forms import processing, receiving
    from portal import demo
    from protected_areas.demo import load_demo_areas
    from protected_areas.models import ProtectedArea

    started = time.perf_counter()
    load_demo_areas()
    demo.load_demo_taxa()
    areas = list(ProtectedArea.objects.order_by("wdpa_id"))
    user = User.objects.create_user("bench-ranger", "bench@example.org", uuid.uuid4().hex)
    AreaMembership.objects.bulk_create(AreaMembership(user=user, area=a, role=Role.COLLECTOR) for a in areas)
    versions = demo.publish_standard_forms(areas, validate=False)

    # Received but not processed: the benchmark maps them itself.
    processing.enqueue = lambda submission_id: None  # type: ignore[assignment]
    received: list[tuple[str, object, bytes]] = []
    year = 2024
    while len(received) < n:
        for stem, xml in demo.generate_submissions(areas, versions, year, seed=seed + year):
            submission = receiving.receive_submission(xml, {}, user=user).submission
            received.append((stem, submission, xml))
            if len(received) == n:
                break
        year -= 1
    kinds = Counter(stem for stem, _, _ in received)
    print(
        f"set-up: {len(received)} submissions received in {time.perf_counter() - started:.0f} s "
        f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})"
    )
    return received


def count_records() -> int:
    from observations import models

    tables = [
        models.Patrol, models.PatrolLeg, models.PatrolLegDay, models.TrackSegment, models.Observation,
        models.IllicitActivity, models.ResourceUse, models.SpeciesObservation, models.METTAssessment,
        models.METTScore, models.BudgetReturn, models.BudgetLine, models.QAFlag,
    ]  # fmt: skip
    return sum(table.objects.count() for table in tables)


def cpu_clock() -> tuple[Callable[[], float], str]:
    """A clock of the CPU seconds mapping costs, and what it counts: this process's, plus the
    PostgreSQL backend's when it runs on this machine (/proc, in clock ticks: exact over
    many submissions, not for one). Steadier than wall time on a shared machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return time.process_time, "this process"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    if not stat.exists():
        return time.process_time, "this process"
    tick = os.sysconf("SC_CLK_TCK")

    def clock() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return time.process_time() + (int(fields[11]) + int(fields[12])) / tick

    return clock, "this process + its PostgreSQL backend"


def measure(submissions: list[tuple[str, object, bytes]], label: str) -> None:
    from django.db import transaction

    from observations.records import record_submission

    clock, counted = cpu_clock()
    per_form: dict[str, float] = defaultdict(float)
    cpu_per_form: dict[str, float] = defaultdict(float)
    started, cpu_started = time.perf_counter(), clock()
    for stem, submission, xml in submissions:
        t0, c0 = time.perf_counter(), clock()
        with transaction.atomic():
            record_submission(submission, xml)  # type: ignore[arg-type]
        per_form[stem] += time.perf_counter() - t0
        cpu_per_form[stem] += clock() - c0
    elapsed = time.perf_counter() - started
    cpu = clock() - cpu_started
    records = count_records()
    n = len(submissions)
    counts = Counter(stem for stem, _, _ in submissions)
    print(f"{label}: {n} submissions in {elapsed:.1f} s")
    print(f"  {n / elapsed:,.0f} submissions/s, {records / elapsed:,.0f} records/s ({records:,} records)")
    print(f"  {1000 * elapsed / n:.2f} ms per submission; by form (ms each): " + ", ".join(
        f"{stem} {1000 * per_form[stem] / counts[stem]:.1f}" for stem in sorted(counts)
    ))  # fmt: skip
    print(f"  CPU ({counted}): {1000 * cpu / n:.2f} ms per submission; by form (ms each): " + ", ".join(
        f"{stem} {1000 * cpu_per_form[stem] / counts[stem]:.1f}" for stem in sorted(counts)
    ))  # fmt: skip


if __name__ == "__main__":
    main()
