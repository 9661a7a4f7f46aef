"""Export benchmark: every export of issue 14 at full size, in one run, on PostGIS.

    .venv/bin/python bench/exports.py [--points 1000000] [--subset 100000] [--submissions 18000]
                                      [--photo-kb 75] [--only csv,gpkg,dwc,submissions]

Without DATABASE_URL it starts a throwaway PostGIS cluster on a free loopback port (and
stops it afterwards); with DATABASE_URL it uses that PostGIS server. Either way the work
happens in a test database created and dropped by Django's test machinery.

Every figure is a GET through Django's test client (URL routing, middleware, the access
policy, the view and its streaming response, as a user gets them, without the HTTP server),
the body read to its end and written to /dev/null. Users: a national viewer (sees every
area; sensitive points generalised, no personal fields: the usual reader of an export), a
national member (exact points; every row with an exact sensitive point audited), and for the
submissions a national law-enforcement user (raw submissions need export, personal data and
exact points in every area of the form).

  csv          /api/v1/exports/observations.csv   (one COPY, streamed; goal ≥ 200k rows/s)
  gpkg         /api/v1/exports/observations.gpkg  (rows in chunks, pyogrio appends, then sent)
  dwc          /api/v1/exports/dwca.zip?area=…    (Darwin Core Archive, streamed)
  submissions  /api/v1/exports/forms/<id>/submissions.csv.zip?media=false|true
               (ODK Central's CSV layout, --submissions records with a --photo-kb photo each)

Set-up, not timed: `--points` observations in the demo areas (bench/exports.py prepare: every
vertical, a third species records, 5 % of taxa sensitive) for csv and gpkg; then the same
number again in ten areas of their own with patrols and leg-days (bench/exports_dwc.py
generate) for the archive; then the submissions (bench/exports_submissions.py prepare).
Each observation export runs twice, on the first `--subset` rows (a period filter,
`until=`) and on all: memory that stays flat gives the same peak at both sizes.

Printed per export: rows, seconds, rows/s, MB sent; CPU seconds of this process (the Django
side) and of its PostgreSQL backend, and rows per CPU second of both (wall-clock rows/s on a
shared 2-CPU machine depend on the other work running); peak RSS of this process during the
export (VmHWM, reset before each export) and its growth over the RSS before it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import uuid
from pathlib import Path
from typing import Any

from harness import rerun_in_throwaway_postgis, test_database

FIGURES = ("csv", "gpkg", "dwc", "submissions")


def main() -> None:
    # The figures are of an export written and sent in one request: a GeoPackage of a
    # million rows would otherwise be an export job (EXPORT_STREAM_MAX_ROWS).
    os.environ.setdefault("EXPORT_STREAM_MAX_ROWS", str(10**9))
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000, help="observations exported")
    parser.add_argument("--subset", type=int, default=100_000, help="rows of the smaller run of each export")
    parser.add_argument("--submissions", type=int, default=18_000, help="submissions exported")
    parser.add_argument("--photo-kb", type=int, default=75, help="size of each submission's photo, in KB")
    parser.add_argument("--only", default="", help="comma-separated figures: " + ",".join(FIGURES))
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner or os.getenv("DATABASE_URL"):
        run(args)
        return
    passed = [
        "--points",
        str(args.points),
        "--subset",
        str(args.subset),
        "--submissions",
        str(args.submissions),
    ]
    passed += ["--photo-kb", str(args.photo_kb), "--only", args.only, "--seed", str(args.seed)]
    rerun_in_throwaway_postgis(__file__, passed, 55640, "fieldkit_bench")


def run(args: argparse.Namespace) -> None:
    wanted = [name for name in args.only.split(",") if name] or list(FIGURES)
    unknown = set(wanted) - set(FIGURES)
    if unknown:
        raise SystemExit(f"unknown figures: {', '.join(sorted(unknown))}")
    with test_database():
        from django.db import connection

        if connection.vendor != "postgresql":
            raise SystemExit("bench/exports.py measures PostGIS: set DATABASE_URL or let it start one")
        print(f"PostgreSQL {connection.cursor().connection.info.server_version}, load average "
              + " ".join(f"{x:.1f}" for x in os.getloadavg()))  # fmt: skip
        try:
            figures(args, wanted)
        finally:
            # The processing thread the demo submissions started must not outlive the database.
            from odk_forms import processing

            processing.background_worker().stop()


def figures(args: argparse.Namespace, wanted: list[str]) -> None:
    if "csv" in wanted or "gpkg" in wanted:
        viewer, member = prepare(args.points, args.seed)
        until = subset_until(args.subset)
        if "csv" in wanted:
            figure_observations("csv", viewer, member, until)
        if "gpkg" in wanted:
            figure_observations("gpkg", viewer, member, until)
    if "dwc" in wanted:
        figure_dwc(args.points)
    if "submissions" in wanted:
        figure_submissions(args.submissions, args.photo_kb)
    print("load average at the end " + " ".join(f"{x:.1f}" for x in os.getloadavg()))


def prepare(points: int, seed: int) -> tuple[Any, Any]:
    """`points` observations in the demo areas; returns a national viewer and a national member."""
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
            "INSERT INTO observations_observationplace (observation_id, area_id, zone_id, day) "
            "SELECT id, area_id, NULL, day FROM observations_observation WHERE instance_path LIKE 'bench[%%'"
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
    member = User.objects.create_user("bench-member", "member@example.org", uuid.uuid4().hex)
    AreaMembership.objects.create(user=member, national=True, role=Role.MEMBER)
    total = Observation.objects.count()
    sensitive = Observation.objects.filter(species__taxon__sensitivity__gt=0).count()
    print(
        f"set-up: {total:,} observations in {len(areas)} areas ({sensitive:,} of sensitive species), "
        f"{time.perf_counter() - started:.0f} s"
    )
    return viewer, member


def subset_until(rows: int) -> str:
    """The day up to which (`until=`) the export holds about `rows` observations."""
    from observations.models import Observation

    day = Observation.objects.order_by("day").values_list("day", flat=True)[max(0, rows - 1) : rows].first()
    return day.isoformat() if day else "9999-12-31"


# --- Measuring ------------------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of process `pid` so far (from /proc, 0 if unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def measured(label: str, rows: int, client: Any, url: str, keep: Path | None = None) -> dict[str, Any]:
    """GET `url`, stream the body to /dev/null (or to `keep`), print the figures."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here
    before = _status_kib("VmRSS")
    cpu, backend_cpu = time.process_time(), _cpu_seconds(backend)
    started = time.perf_counter()
    response = client.get(url, secure=True)
    assert response.status_code == 200, (url, response.status_code, getattr(response, "content", b"")[:300])
    size = lines = 0
    with open(keep or os.devnull, "wb") as sink:
        for block in response.streaming_content:
            size += len(block)
            lines += block.count(b"\n")
            sink.write(block)
    response.close()
    seconds = time.perf_counter() - started
    cpu, backend_cpu = time.process_time() - cpu, _cpu_seconds(backend) - backend_cpu
    peak = _status_kib("VmHWM")
    print(
        f"  {label:<34} {rows:>9,} rows {seconds:7.2f} s {rows / seconds:>9,.0f} rows/s {size / 1e6:8.1f} MB"
        f" | CPU django {cpu:6.2f} s + postgres {backend_cpu:6.2f} s"
        f" = {rows / max(cpu + backend_cpu, 1e-9):>9,.0f} rows/CPU-s"
        f" | peak RSS {peak / 1024:4.0f} MB (+{max(0, peak - before) / 1024:.0f})"
    )
    return {"seconds": seconds, "size": size, "lines": lines, "peak": peak}


# --- Figures --------------------------------------------------------------------------------------


def figure_observations(fmt: str, viewer: Any, member: Any, until: str) -> None:
    """The observation export in `fmt`, as the viewer on the first rows and on all of them,
    and (CSV) as the member on all of them."""
    from observations.models import Observation

    print(f"observations.{fmt}")
    url = f"/api/v1/exports/observations.{fmt}"
    everyone = Observation.objects.count()
    part = Observation.objects.filter(day__lte=until).count()
    runs = [
        ("viewer, generalised", viewer, f"?until={until}", part),
        ("viewer, generalised", viewer, "", everyone),
    ]
    if fmt == "csv":
        runs.append(("member, exact points, audited", member, "", everyone))
    for who, user, query, rows in runs:
        result = measured(f"{fmt} {who}", rows, _client(user), url + query)
        if fmt == "csv":
            assert result["lines"] == rows + 1, (result["lines"], rows)  # the header and one line a row


def figure_dwc(points: int) -> None:
    """The Darwin Core Archive of `points` observations with their patrols (exports_dwc),
    one year of it and all of it, saved to a file whose rows are counted afterwards."""
    import tempfile

    import exports_dwc

    from observations.models import Observation
    from protected_areas.models import ProtectedArea

    started = time.perf_counter()
    known = set(ProtectedArea.objects.values_list("pk", flat=True))
    viewer = exports_dwc.generate(points)
    areas = ",".join(
        str(pk) for pk in ProtectedArea.objects.exclude(pk__in=known).values_list("pk", flat=True)
    )
    print(f"dwca.zip (set-up: {points:,} observations with patrols in {time.perf_counter() - started:.0f} s)")
    with tempfile.TemporaryDirectory(prefix="fieldkit-bench-dwca-") as folder:
        path = Path(folder) / "dwca.zip"
        for label, query in (("one year", f"&year={exports_dwc.FIRST_YEAR}"), ("all", "")):
            url = f"/api/v1/exports/dwca.zip?area={areas}{query}"
            # Rows: the observations read; the archive's own rows are counted once it is written.
            read = Observation.objects.filter(area_id__in=areas.split(","))
            if query:
                read = read.filter(day__year=exports_dwc.FIRST_YEAR)
            result = measured(
                f"dwca viewer, generalised, {label}", read.count(), _client(viewer), url, keep=path
            )
            counts = exports_dwc.archive_rows(path)
            total = sum(counts.values())
            print(
                f"    = {total:,} rows ({', '.join(f'{n} {c:,}' for n, c in counts.items())}): "
                f"{total / result['seconds']:,.0f} rows/s, "
                f"{counts['occurrence.txt'] / result['seconds']:,.0f} occurrences/s"
            )


def figure_submissions(n: int, photo_kb: int) -> None:
    """A form's `n` submissions as Central's CSV ZIP, without and with their photos."""
    import exports_submissions

    from accounts.models import AccessEvent, AreaMembership, Role, User

    started = time.perf_counter()
    form_id, _admin = exports_submissions.prepare(n, photo_kb * 1024)
    officer = User.objects.create_user("bench-officer", "officer@example.org", uuid.uuid4().hex)
    AreaMembership.objects.create(user=officer, national=True, role=Role.LAW_ENFORCEMENT)
    print(f"submissions.csv.zip (set-up: {n:,} submissions, a {photo_kb} KB photo each, "
          f"{time.perf_counter() - started:.0f} s)")  # fmt: skip
    for media in (False, True):
        audited = AccessEvent.objects.count()
        url = f"/api/v1/exports/forms/{form_id}/submissions.csv.zip?media={'true' if media else 'false'}"
        label = f"law enforcement, {'with' if media else 'without'} photos"
        result = measured(label, n, _client(officer), url)
        assert AccessEvent.objects.count() - audited == n  # one audit row per record exported
        if media:
            assert result["size"] > n * photo_kb * 1024, result["size"]  # every photo in media/


if __name__ == "__main__":
    main()
