"""The export jobs page, /exports/, in headless Chromium, served by gunicorn: a member asks
for a large export with the page's form and sees its row, progress bar full and download
link, and downloads the file (read back with openpyxl); a small export downloads at once; a
job still queued shows its empty progress bar and, polled, turns into a link once a worker
has written it.

Screenshots: var/test-artifacts/<database>/ (tests/browser.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from tests.base import PASSWORD
from tests.browser import FieldkitServer, artifact_path, collected_static


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FieldkitServer]:
    """A server of its own: an export of more than one row is a job."""
    own = FieldkitServer(tmp_path_factory.mktemp("fieldkit-exports"), collected_static())
    own.env["EXPORT_STREAM_MAX_ROWS"] = "1"
    try:
        own.create_database()
        # The access-policy scene: an area, its member, two observations and a leg-day.
        own.manage("shell", "-c", "from tests import access_scene; access_scene.build(type('Scene', (), {}))")
        own.start()
        yield own
    finally:
        own.stop()
        own.drop_database()


def sign_in(page: Any, server: FieldkitServer, username: str) -> None:
    page.goto(server.url("/exports/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button")
    page.wait_for_url("**/exports/")


def test_a_member_asks_for_a_large_export_and_downloads_it(server, page, page_log):
    sign_in(page, server, "member")
    assert page.locator("#no-jobs").count() == 1
    # A Shapefile needs a geometry: not offered for budgets.
    page.select_option("select[name=kind]", "budgets")
    assert page.locator("select[name=format] option[value='shp.zip']").is_disabled()
    page.select_option("select[name=kind]", "observations")
    page.select_option("select[name=format]", "xlsx")
    page.click("form#ask button")
    row = page.locator("#jobs tbody tr")
    row.wait_for()
    assert row.locator(".status").inner_text() == "done"
    bar = row.locator("progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("2", "2")
    page.screenshot(path=artifact_path("export-jobs.png"), full_page=True)
    with page.expect_download() as download:
        row.locator("a", has_text="Download").click()
    from openpyxl import load_workbook

    assert download.value.suggested_filename == "observations.xlsx"
    with open(download.value.path(), "rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read()), read_only=True).worksheets[0]
    assert len(list(sheet.iter_rows(values_only=True))) == 3  # the header and two records

    # One row: the file comes at once, no job.
    page.select_option("select[name=kind]", "leg-days")
    page.select_option("select[name=format]", "csv")
    with page.expect_download() as small:
        page.click("form#ask button")
    assert small.value.suggested_filename == "leg-days.csv"
    with open(small.value.path(), encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 1
    assert page.locator("#jobs tbody tr").count() == 1
    assert page_log.blocked == [] and page_log.errors == []


def test_a_queued_job_shows_its_progress_then_its_link(server, page, page_log):
    job = server.manage(
        "shell",
        "-c",
        "from accounts.models import User; from exports.models import ExportJob; "
        "print(ExportJob.objects.create(owner=User.objects.get(username='member'), kind='patrols', "
        "format='csv', params={'query': {}}, total=1).pk)",
    )
    job_id = int(job.strip().splitlines()[-1])
    sign_in(page, server, "member")
    row = page.locator(f"tr[data-status-url='/api/v1/exports/jobs/{job_id}/']")
    assert row.locator(".status").inner_text() == "queued"
    assert row.locator("progress").get_attribute("value") == "0"
    assert row.locator("a").count() == 0
    page.screenshot(path=artifact_path("export-jobs-queued.png"), full_page=True)
    server.manage("shell", "-c", f"from exports import jobs; jobs.run_job({job_id})")
    # The page polls the job's status every 2 s.
    row.locator("a", has_text="Download").wait_for(timeout=15_000)
    assert row.locator(".status").inner_text() == "done"
    with page.expect_download() as download:
        row.locator("a", has_text="Download").click()
    with open(download.value.path(), encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 1
    assert page_log.blocked == [] and page_log.errors == []
