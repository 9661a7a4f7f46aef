"""Submission export benchmark: a form's submissions as ODK Central's CSV ZIP.

    .venv/bin/python bench/exports_submissions.py [--n 18000] [--photo-kb 75] [--only without|with|xlsx]

Without DATABASE_URL it starts a throwaway PostGIS cluster on a free loopback port (and
stops it afterwards); with DATABASE_URL it uses that server. Either way the work happens in
a test database created and dropped by Django's test machinery.

Set-up, not timed: the form of ../shared/data/forms/bench_survey.xml (name, colour, a
geopoint, a photo) published in one area, then N submissions written straight into the
database and the media folder (no HTTP, no processing): each its XML file and one
JPEG-like photo of about --photo-kb KB (random bytes between JPEG markers, a file of its
own each).

Timed: GET /api/v1/exports/forms/<id>/submissions.csv.zip through the view (a superuser,
without the HTTP server), the streamed ZIP read to the end, without the media files
(`media=false`) and with them (`media=true`); then the same records as XLSX
(submissions.xlsx, without media). Each run is checked (rows in the CSV, files in
media/, one audit row per record) and prints seconds, submission rows/s, MB sent, CPU
seconds of this process, and its peak RSS during the export (VmHWM, reset before each
run; the set-up's memory is not counted) with its children's.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import resource
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from harness import ROOT, rerun_in_throwaway_postgis, test_database

FORM = ROOT.parent / "shared" / "data" / "forms" / "bench_survey.xml"
COLOURS = ("red", "green", "blue")
BATCH = 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=18000, help="submissions to export")
    parser.add_argument("--photo-kb", type=int, default=75, help="size of each photo, in KB")
    parser.add_argument(
        "--only", choices=("without", "with", "xlsx"), help="run only the export without or with photos"
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner or os.getenv("DATABASE_URL"):
        run(args)
        return
    passed = ["--n", str(args.n), "--photo-kb", str(args.photo_kb)]
    if args.only:
        passed += ["--only", args.only]
    rerun_in_throwaway_postgis(__file__, passed, 55650, "fieldkit_bench")


def run(args: argparse.Namespace) -> None:
    with test_database():
        from django.db import connection

        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        started = time.perf_counter()
        form_id, user = prepare(args.n, args.photo_kb * 1024)
        took = time.perf_counter() - started
        print(f"set-up: {args.n} submissions with a {args.photo_kb} KB photo each in {took:.1f} s")
        if args.only in (None, "without"):
            measure(form_id, user, False, args.n)
        if args.only in (None, "with"):
            measure(form_id, user, True, args.n)
        if args.only in (None, "xlsx"):
            measure_xlsx(form_id, user, args.n)


def prepare(n: int, photo_size: int) -> tuple[int, Any]:
    """The form published in one area, then `n` submissions with their XML and a photo each,
    written with bulk inserts and plain file writes."""
    from django.conf import settings

    from accounts.models import User
    from odk_forms import publishing
    from odk_forms.models import Attachment, Submission
    from protected_areas.models import ProtectedArea

    area = ProtectedArea.objects.create(
        name="Bench area",
        boundary="SRID=4326;MULTIPOLYGON(((147 -10,148 -10,148 -9,147 -9,147 -10)))",
        source="bench",
        source_id="bench-1",
        iso3="PNG",
    )
    version = publishing.publish_form_version(
        "bench_survey.xml", FORM.read_bytes(), area_ids=[area.pk], validate=False
    )
    collector = User.objects.create_user("bench-collector", "c@example.org", "x")
    admin = User.objects.create_superuser("bench-admin", "a@example.org", "x")
    media = Path(settings.MEDIA_ROOT)
    folder = media / "submissions" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    body = photo_size - 4
    for first in range(0, n, BATCH):
        rows, photos = [], []
        for i in range(first, min(n, first + BATCH)):
            instance = f"uuid:{uuid.UUID(int=i + 1)}"
            photo = f"{1700000000000 + i}.jpg"
            xml = (
                f'<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" '
                f'id="bench_survey" version="1"><name>Ranger {i % 97} of post {i % 13}</name>'
                f"<color>{COLOURS[i % 3]}</color>"
                f"<location>{-9.0 - (i % 1000) / 1000:.6f} {147.0 + (i % 777) / 1000:.6f} "
                f"{40 + i % 60}.0 {3 + i % 9}.5</location>"
                f"<photo>{photo}</photo><meta><instanceID>{instance}</instanceID></meta></data>"
            ).encode()
            xml_name = f"submissions/bench/{i}.xml"
            (media / xml_name).write_bytes(xml)
            photo_name = f"submissions/bench/{i}/{photo}"
            (media / photo_name).parent.mkdir(exist_ok=True)
            (media / photo_name).write_bytes(b"\xff\xd8" + os.urandom(body) + b"\xff\xd9")
            rows.append(
                Submission(
                    form_id=version.form_id,
                    form_version=version,
                    instance_id=instance,
                    xml_file=xml_name,
                    xml_sha256="0" * 64,
                    xml_size=len(xml),
                    state="processed",
                    submitted_by=collector,
                    device_id="collect:bench",
                    metadata={"attachments_missing": []},
                )
            )
            photos.append((photo, photo_name))
        made = Submission.objects.bulk_create(rows)
        Attachment.objects.bulk_create(
            Attachment(
                submission=submission,
                name=name,
                file=stored,
                md5="0" * 32,
                sha256=f"{submission.pk:064x}",
                size=photo_size,
                content_type="image/jpeg",
            )
            for submission, (name, stored) in zip(made, photos, strict=True)
        )
    return version.form_id, admin


def _peak_rss_reset() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(form_id: int, user: Any, media: bool, n: int) -> None:
    from django.test import RequestFactory

    from accounts.models import AccessEvent
    from exports import submission_views

    request = RequestFactory().get(
        f"/api/v1/exports/forms/{form_id}/submissions.csv.zip", {"media": "true" if media else "false"}
    )
    request.user = user
    audited = AccessEvent.objects.count()
    _peak_rss_reset()
    before = _status_mb("VmRSS")
    started = time.perf_counter()
    cpu = time.process_time()
    response = submission_views.submissions_csv_zip(request, form_id)
    size = 0
    spool = Path(os.environ["MEDIA_ROOT"]) / f"export-{media}.zip"
    with spool.open("wb") as out:
        for part in response.streaming_content:
            size += len(part)
            out.write(part)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = _status_mb("VmHWM")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    with zipfile.ZipFile(spool) as archive:
        names = archive.namelist()
        with archive.open("bench_survey.csv") as table:
            rows = sum(1 for _ in csv.reader(io.TextIOWrapper(table, encoding="utf-8"))) - 1
    spool.unlink()
    photos = sum(1 for name in names if name.startswith("media/"))
    assert rows == n, (rows, n)
    assert photos == (n if media else 0), photos
    assert AccessEvent.objects.count() - audited == n  # one audit row per record exported
    label = "with photos (media=true)" if media else "without photos (media=false)"
    print(
        f"{label}: {seconds:.2f} s, {rows / seconds:,.0f} rows/s, {size / 1e6:,.1f} MB, "
        f"CPU {cpu:.2f} s, peak RSS {peak:.0f} MB (RSS before {before:.0f} MB; children {children:.0f} MB), "
        f"{rows} rows, {photos} files in media/"
    )


def measure_xlsx(form_id: int, user: Any, n: int) -> None:
    from django.test import RequestFactory
    from openpyxl import load_workbook

    from exports import submission_views

    request = RequestFactory().get(f"/api/v1/exports/forms/{form_id}/submissions.xlsx")
    request.user = user
    _peak_rss_reset()
    before = _status_mb("VmRSS")
    started = time.perf_counter()
    cpu = time.process_time()
    response = submission_views.submissions_xlsx(request, form_id)
    spool = Path(os.environ["MEDIA_ROOT"]) / "export.xlsx"
    with spool.open("wb") as out:
        for part in response.streaming_content:
            out.write(part)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = _status_mb("VmHWM")
    size = spool.stat().st_size
    book = load_workbook(spool, read_only=True)
    rows = sum(1 for _ in book["bench_survey"].iter_rows()) - 1
    book.close()
    spool.unlink()
    assert rows == n, (rows, n)
    print(
        f"xlsx: {seconds:.2f} s, {rows / seconds:,.0f} rows/s, {size / 1e6:,.1f} MB, CPU {cpu:.2f} s, "
        f"peak RSS {peak:.0f} MB (RSS before {before:.0f} MB), {rows} rows"
    )


if __name__ == "__main__":
    main()
