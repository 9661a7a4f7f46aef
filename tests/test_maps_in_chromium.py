"""The overview map and an area's dashboard in headless Chromium, served by gunicorn with
the demo loaded and its indicators computed: the map holds the areas, the tracks, the
observations and the grid cells, the charts hold data, a filter changes map, charts and URL
together, the dashboard prints to A4, and a viewer's page never receives an exact
sensitive point."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.browser import artifact_path

PASSWORD = "fieldkit-demo"


@pytest.fixture(scope="module")
def demo(fieldkit_server: Any) -> dict[str, Any]:
    fieldkit_server.manage("load_demo", "--years", "1")
    fieldkit_server.manage("compute_indicators")
    # What the viewer must never receive: the exact points of the demo's sensitive records.
    # The species most often recorded made sensitive (high: 0.1° cells) nationally.
    fieldkit_server.manage(
        "shell",
        "-c",
        "from django.db.models import Count; from observations.models import Taxon, SpeciesObservation as S; "
        "top = S.objects.values('taxon').annotate(n=Count('pk')).order_by('-n')[:3]; "
        "Taxon.objects.filter(pk__in=[t['taxon'] for t in top]).update(sensitivity=2)",
    )
    script = (
        "import json; from observations.models import Observation; "
        "from observations import sensitivity; "
        "rows = sensitivity.with_levels(Observation.objects.filter(location__isnull=False))"
        ".filter(sensitivity_rank__gt=0); "
        "print(json.dumps([[o.location.x, o.location.y, o.area_id] for o in rows]))"
    )
    out = fieldkit_server.manage("shell", "-c", script)
    area = fieldkit_server.manage(
        "shell",
        "-c",
        "from protected_areas.models import ProtectedArea as A; print(A.objects.order_by('name')[3].pk)",
    )
    return {"sensitive": json.loads(out.strip().splitlines()[-1]), "area": int(area.strip().splitlines()[-1])}


def sign_in(page: Any, server: Any, username: str) -> None:
    """A session for `username` made on the server's database, handed to the browser: the
    pages' users (donors, viewers) are not staff, and the admin's login takes staff only."""
    script = (
        "from django.conf import settings; from django.contrib.auth import get_user_model, "
        "SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY; "
        "from importlib import import_module; "
        f"u = get_user_model().objects.get(username={username!r}); "
        "s = import_module(settings.SESSION_ENGINE).SessionStore(); "
        "s[SESSION_KEY] = str(u.pk); s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'; "
        "s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.create(); "
        "print(settings.SESSION_COOKIE_NAME, s.session_key)"
    )
    name, key = server.manage("shell", "-c", script).strip().splitlines()[-1].split()
    page.context.add_cookies([{"name": name, "value": key, "url": server.url("/")}])


def real_errors(page_log: Any) -> list[str]:
    """Errors less the basemap, which tests never reach (MAP_TILES_URL points nowhere)."""
    # Chromium also reports each failed load on the console, without its address: the
    # response itself is in the log with its address, so those lines are left out.
    return [
        e
        for e in page_log.errors
        if "/no-basemap/" not in e and not e.startswith("console: Failed to load resource")
    ]


def test_overview_map_draws_every_area(fieldkit_server, demo, page, page_log):
    sign_in(page, fieldkit_server, "donor")
    page.goto(fieldkit_server.url("/maps/?indicator=effort.km|"))
    page.wait_for_function("document.body.dataset.loaded === 'areas'")
    # The layers are counted: what Leaflet holds, whatever it draws with.
    assert page.evaluate("window.overviewLayer.getLayers().length") == 5
    legend = page.locator("#legend").inner_text()
    assert "no data (not the same as 0)" in legend and "km" in legend
    page.evaluate("window.overviewLayer.getLayers()[0].fire('click')")
    page.wait_for_selector("#details table")
    assert "effort.km" in page.locator("#details").inner_text()
    page.screenshot(path=artifact_path("maps-overview.png"))
    assert page_log.blocked == []
    assert real_errors(page_log) == []


def test_area_dashboard_filters_prints_and_withholds_sensitive_points(fieldkit_server, demo, page, page_log):
    bodies: list[str] = []
    # Everything the page receives of observations (tracks pass through the points where
    # rangers stopped, sensitive or not: they are effort, not records, and not checked here).
    page.on(
        "response",
        lambda r: bodies.append(r.text()) if "/maps/data/observations" in r.url and r.ok else None,
    )
    weight: list[int] = []

    def count(request: Any) -> None:
        if "/no-basemap/" not in request.url:
            sizes = request.sizes()
            weight.append(sizes["responseBodySize"] + sizes["responseHeadersSize"])

    page.on("requestfinished", count)
    sign_in(page, fieldkit_server, "donor")
    page.goto(fieldkit_server.url(f"/maps/areas/{demo['area']}/"))
    page.wait_for_function(
        "window.figuresLoaded >= 1 && window.trackCount !== undefined && window.observationFeatures"
    )
    page.wait_for_function("document.body.dataset.loading === '0'")
    # The page's weight before the basemap: every byte received, as sent (compressed).
    total = sum(weight)
    artifact_path("maps-dashboard-weight.txt").write_text(f"{total} bytes in {len(weight)} responses\n")
    assert total < 1_000_000
    found = page.evaluate(
        """() => ({
            cards: document.querySelectorAll('#cards .card').length,
            effort: Chart.getChart('chart-effort').data.datasets[0].data.filter(v => v !== null).length,
            rate: Chart.getChart('chart-rate').data.datasets[0].data.length,
            richness: Chart.getChart('chart-richness').data.labels.length,
            mett: Chart.getChart('chart-mett').data.datasets.length,
            tracks: window.trackCount,
            observations: window.observationFeatures.length,
        })"""
    )
    assert found["cards"] == 6 and found["effort"] > 0 and found["rate"] > 0
    assert found["richness"] >= 1 and found["mett"] >= 1
    assert found["tracks"] > 0 and found["observations"] > 0
    # The gridded layer: switched on, its cells are drawn.
    page.get_by_label("Records per grid cell").check()
    page.wait_for_function(
        "dashboard.map.hasLayer(dashboard.layers.cells) && dashboard.layers.cells.getLayers().length === 1 "
        "&& dashboard.layers.cells.getLayers()[0].getLayers().length > 0"
    )
    page.screenshot(path=artifact_path("maps-dashboard.png"), full_page=True)

    # One filter for everything: the URL, the observations and the rate chart follow it.
    loaded = page.evaluate("window.figuresLoaded")
    page.select_option("select[name=vertical]", "biodiversity")
    page.wait_for_function(f"window.figuresLoaded > {loaded}")
    page.wait_for_function("document.body.dataset.loading === '0'")
    assert "vertical=biodiversity" in page.url
    verticals = page.evaluate("[...new Set(window.observationFeatures.map(f => f.properties.vertical))]")
    assert verticals == ["biodiversity"]
    assert page.locator(".subject-label").inner_text() == "Biodiversity"
    page.screenshot(path=artifact_path("maps-dashboard-filtered.png"), full_page=True)
    # The shared URL opens the same view.
    page.goto(page.url)
    page.wait_for_function("window.figuresLoaded >= 1")
    assert page.locator("select[name=vertical]").input_value() == "biodiversity"

    # Printed on A4: map, cards and charts on the pages.
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    page.wait_for_function("document.body.dataset.loading === '0'")
    page.wait_for_timeout(500)
    pdf = artifact_path("maps-dashboard.pdf")
    page.pdf(path=str(pdf), format="A4", print_background=True)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    assert 1 <= pages <= 3
    assert "Patrol effort per month" in text and "Encounter rate per 10 km" in text
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(artifact_path("maps-dashboard-print")),
        ],
        check=True,
    )

    # Zoomed in to single points: still no exact sensitive point in anything received.
    for x, y, _area in demo["sensitive"][:10]:
        for zoom in (9, 16):
            box = f"{x - 0.01},{y - 0.01},{x + 0.01},{y + 0.01}"
            response = page.goto(
                fieldkit_server.url(f"/maps/data/observations.geojson?bbox={box}&zoom={zoom}")
            )
            assert response is not None and response.ok
    features = [f for body in bodies for f in json.loads(body)["features"]]
    singles = [f for f in features if not f["properties"]["cluster"]]
    assert demo["sensitive"], "the demo has sensitive records"
    assert singles, "single points were received"
    exact = {(round(x, 6), round(y, 6)) for x, y, _area in demo["sensitive"]}
    sensitive = [f for f in singles if f["properties"]["sensitivity"] != 0]
    assert sensitive, "sensitive records were among the points received"
    for f in sensitive:
        assert f["properties"]["dataGeneralizations"] or f["geometry"] is None
    # (Clusters are counted on generalised points: tests/test_maps_data.py. Here other records
    # share places with sensitive ones, so a cluster's position proves nothing either way.)
    for f in sensitive:
        if f["geometry"]:
            x, y = f["geometry"]["coordinates"]
            assert (round(x, 6), round(y, 6)) not in exact, f["properties"]
    assert page_log.blocked == []
    assert real_errors(page_log) == []


def test_species_page_and_law_enforcement_map(fieldkit_server, demo, page, page_log):
    slug = fieldkit_server.manage(
        "shell",
        "-c",
        "from django.db.models import Count; from observations.models import SpeciesObservation as S; "
        "print(S.objects.values('taxon__slug').annotate(n=Count('pk')).order_by('-n')[0]['taxon__slug'])",
    )
    slug = slug.strip().splitlines()[-1]
    sign_in(page, fieldkit_server, "donor")
    page.goto(fieldkit_server.url(f"/maps/species/{slug}/"))
    page.wait_for_function("window.speciesFeatures !== undefined && window.speciesRates !== undefined")
    assert page.evaluate("window.speciesFeatures.length") > 0
    assert page.evaluate("window.speciesRates") > 0
    assert page.locator("#species-records tbody tr").count() >= 1
    assert page.locator("#sensitive-note").count() == 1  # made sensitive by the fixture
    page.screenshot(path=artifact_path("maps-species.png"), full_page=True)

    page.context.clear_cookies()
    sign_in(page, fieldkit_server, "officer")
    page.goto(fieldkit_server.url("/maps/enforcement/"))
    page.wait_for_function("window.illicitFeatures !== undefined")
    verticals = page.evaluate("[...new Set(window.illicitFeatures.map(f => f.properties.vertical))]")
    assert verticals == ["illicit"]
    assert page.locator("#hotspots li[data-lon]").count() >= 1
    page.screenshot(path=artifact_path("maps-enforcement.png"))
    assert page_log.blocked == []
    assert real_errors(page_log) == []
