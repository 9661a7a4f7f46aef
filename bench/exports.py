"""Export benchmark: rows per second and peak memory of exports of a million observations.

    .venv/bin/python bench/exports.py [--points 1000000] [--only csv,gpkg,...]

Without DATABASE_URL it starts a throwaway PostGIS cluster on a free loopback port (and
stops it afterwards); with DATABASE_URL it uses that PostGIS server, in a test database
created and dropped by Django's test machinery.

Set-up, not timed: the demo areas and species (5 % of taxa made sensitive), the standard
forms, a few demo submissions, then `--points` observations written straight into the
database with generate_series (every vertical, a third of them species records).

Timed, one function per figure, each through Django's test client as a signed-in national
viewer (sensitive points generalised in every row), the whole answer read and thrown away:
  csv   GET /api/v1/exports/observations.csv   (one COPY, streamed; goal ≥ 200k rows/s)
  gpkg  GET /api/v1/exports/observations.gpkg  (values_list in chunks, pyogrio append)
Figures from bench/exports_dwc.py and bench/exports_submissions.py (a `run(args)` each)
are added when those files are present (`--only dwc`, `--only submissions`).
Printed: rows, seconds, rows/s, and memory: the peak RSS of this process during the figure
above its RSS before (sampled every 20 ms), ru_maxrss of this process and of its exited
children (RUSAGE_CHILDREN), and the peak RSS (VmHWM) of the PostgreSQL backend.
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import rerun_in_throwaway_postgis, test_database

HERE = Path(__file__).resolve().parent
FIGURES = ("csv", "gpkg")
EXTRA = {"dwc": "exports_dwc", "submissions": "exports_submissions"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--only", default="", help="comma-separated figures: " + ",".join([*FIGURES, *EXTRA]))
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner or os.getenv("DATABASE_URL"):
        run(args)
        return
    rerun_in_throwaway_postgis(
        __file__,
        ["--points", str(args.points), "--only", args.only, "--seed", str(args.seed)],
        55640,
        "fieldkit_bench",
    )


def selected(args: argparse.Namespace) -> list[str]:
    wanted = [name for name in args.only.split(",") if name] or [*FIGURES, *EXTRA]
    return [name for name in wanted if name in FIGURES or (HERE / f"{EXTRA.get(name, '-')}.py").exists()]


def run(args: argparse.Namespace) -> None:
    with test_database():
        from django.db import connection

        if connection.vendor != "postgresql":
            raise SystemExit("bench/exports.py measures PostGIS: set DATABASE_URL or let it start one")
        figures = selected(args)
        viewer = prepare(args.points, args.seed)
        for name in figures:
            if name in FIGURES:
                globals()[f"figure_{name}"](viewer)
            else:
                importlib.import_module(EXTRA[name]).run(args)


def prepare(points: int, seed: int) -> Any:
    import json
    import random

    from django.db import connection

    from accounts.models import AreaMembership, Role, User
    from observations.models import Category, Observation, Taxon
    from odk_forms import processing, receiving
    from portal import demo
    from protected_areas.demo import load_demo_areas
    from protected_areas.models import ProtectedArea

    started = time.perf_counter()
    load_demo_areas()
    demo.load_demo_taxa()
    areas = list(ProtectedArea.objects.order_by("wdpa_id"))
    ranger = User.objects.create_user("bench-ranger", "ranger@example.org", uuid.uuid4().hex)
    AreaMembership.objects.bulk_create(
        AreaMembership(user=ranger, area=a, role=Role.COLLECTOR) for a in areas
    )
    versions = demo.publish_standard_forms(areas, validate=False)
    for _stem, xml in list(demo.generate_submissions(areas, versions, 2024, seed=seed))[:40]:
        submission = receiving.receive_submission(xml, {}, user=ranger).submission
        processing.process_submission(submission.pk)
    template = Observation.objects.order_by("pk").first()
    assert template is not None
    taxa = list(Taxon.objects.order_by("pk").values_list("pk", flat=True))
    rng = random.Random(seed)
    Taxon.objects.filter(pk__in=rng.sample(taxa, max(1, len(taxa) // 20))).update(sensitivity=3)
    categories = list(Category.objects.exclude(vertical="").values_list("slug", "vertical"))
    boxes = [a.boundary.extent for a in areas]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH box(i, area_id, xmin, ymin, xmax, ymax) AS (
                SELECT ordinality - 1, (b->>0)::int, (b->>1)::float, (b->>2)::float,
                       (b->>3)::float, (b->>4)::float
                FROM jsonb_array_elements(%(boxes)s::jsonb) WITH ORDINALITY AS t(b, ordinality)
            ), cat(i, slug, vertical) AS (
                SELECT ordinality - 1, c->>0, c->>1
                FROM jsonb_array_elements(%(categories)s::jsonb) WITH ORDINALITY AS t(c, ordinality)
            ), g AS (
                SELECT n, timestamptz '2020-01-01' + random() * interval '1826 days' AS t
                FROM generate_series(1, %(points)s) n
            )
            INSERT INTO observations_observation (
                submission_id, root_submission_id, form_version_id, instance_path, record_uuid,
                location, accuracy_m, time, day, area_id, category, vertical, count, notes,
                observer, photos)
            SELECT %(submission)s, %(root)s, %(version)s, 'bench[' || g.n || ']', gen_random_uuid(),
                   ST_SetSRID(ST_MakePoint(box.xmin + random() * (box.xmax - box.xmin),
                                           box.ymin + random() * (box.ymax - box.ymin)), 4326),
                   10, g.t, g.t::date, box.area_id, cat.slug, cat.vertical, 1, '', 'Ranger ' || (g.n %% 40),
                   '[]'
            FROM g
            JOIN box ON box.i = g.n %% %(n_boxes)s
            JOIN cat ON cat.i = (g.n / 7) %% %(n_categories)s
            """,
            {
                "boxes": json.dumps([[a.pk, *box] for a, box in zip(areas, boxes, strict=True)]),
                "categories": json.dumps(categories),
                "points": points,
                "n_boxes": len(boxes),
                "n_categories": len(categories),
                "submission": template.submission_id,
                "root": template.root_submission_id,
                "version": template.form_version_id,
            },
        )
        cursor.execute(
            "INSERT INTO observations_observationplace (observation_id, area_id, zone_id) "
            "SELECT id, area_id, NULL FROM observations_observation WHERE instance_path LIKE 'bench[%%'"
        )
        cursor.execute(
            "INSERT INTO observations_speciesobservation (observation_id, taxon_id, taxon_name, "
            "individual_count, evidence, is_occurrence) "
            "SELECT id, (%s::int[])[1 + id %% %s], '', 1, '', true FROM observations_observation "
            "WHERE instance_path LIKE 'bench[%%' AND id %% 3 = 0",
            [taxa, len(taxa)],
        )
        cursor.execute("ANALYZE")
    viewer = User.objects.create_user("bench-viewer", "viewer@example.org", uuid.uuid4().hex)
    AreaMembership.objects.create(user=viewer, national=True, role=Role.VIEWER)
    total = Observation.objects.count()
    print(f"set-up: {total:,} observations in {len(areas)} areas, {time.perf_counter() - started:.0f} s")
    return viewer


def _rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _backend_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measured(label: str, rows: int, work: Callable[[], int]) -> None:
    """Run `work` (returns bytes read) and print rows/s and memory."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    before = _rss_kib()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_kib())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    size = work()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    self_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        backend_hwm = _backend_hwm_kib(backend)
    except OSError:
        backend_hwm = 0
    print(
        f"  {label:<10} {rows:>10,} rows  {seconds:6.2f} s  {rows / seconds:>10,.0f} rows/s  "
        f"{size / 2**20:7.1f} MiB out  RSS {before / 1024:.0f} MiB before, "
        f"peak +{(peak[0] - before) / 1024:.0f} MiB; "
        f"ru_maxrss self {self_max / 1024:.0f} MiB, children {children_max / 1024:.0f} MiB; "
        f"PostgreSQL backend peak {backend_hwm / 1024:.0f} MiB"
    )


def _client(viewer: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(viewer)
    return client


def _read(client: Any, url: str) -> int:
    response = client.get(url, secure=True)
    assert response.status_code == 200, (response.status_code, getattr(response, "content", b"")[:300])
    size = 0
    for block in response.streaming_content:
        size += len(block)
    response.close()
    return size


def figure_csv(viewer: Any) -> None:
    from observations.models import Observation

    rows = Observation.objects.count()
    client = _client(viewer)
    measured("csv", rows, lambda: _read(client, "/api/v1/exports/observations.csv"))


def figure_gpkg(viewer: Any) -> None:
    from django.test import override_settings

    from observations.models import Observation

    rows = Observation.objects.count()
    client = _client(viewer)
    # Streamed straight through the view however large: the figure is the writer's.
    with override_settings(EXPORT_STREAM_MAX_ROWS=10**12):
        measured("gpkg", rows, lambda: _read(client, "/api/v1/exports/observations.gpkg"))


if __name__ == "__main__":
    main()
