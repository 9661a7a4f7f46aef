"""Headless Chromium on the case pages served in the production shape: the officer of the
demo signs in, opens a case, and its linked records show on the Leaflet map, with nothing
fetched from anywhere but the server.

Screenshots: var/test-artifacts/<database>/ (tests/browser.py).
"""

from __future__ import annotations

from tests.browser import artifact_path


def test_an_officer_opens_a_case_and_sees_its_records_on_the_map(fieldkit_server, page, page_log):
    fieldkit_server.manage("load_demo", "--years", "1")
    page.goto(fieldkit_server.url("/cases/"))
    # Not signed in: the sign-in page, then back to the list.
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", "fieldkit-demo")
    page.click("button")
    page.wait_for_url("**/cases/")
    assert page.locator("tbody tr").count() == 5
    page.locator("tbody a").first.click()
    page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length > 0")
    page.screenshot(path=artifact_path("case-page.png"), full_page=True)
    assert page.locator("text=Case file (ZIP)").count() == 1
    assert page_log.blocked == []
    # The demo's basemap is a stand-in URL on the server that answers 404.
    basemap = [
        e for e in page_log.errors if "/no-basemap/" in e or e.startswith("console: Failed to load resource")
    ]
    assert [e for e in page_log.errors if e not in basemap] == []
    assert all("/no-basemap/" in e for e in basemap if not e.startswith("console:"))
