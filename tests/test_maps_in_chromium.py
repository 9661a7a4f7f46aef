"""The overview map and an area's dashboard in headless Chromium, served by gunicorn with
the demo (two years) loaded, its indicators computed and Papua New Guinea's provinces loaded
from the shared data: the overview holds the areas over the provinces, the dashboard's map
the tracks, the observations and the grid cells, the cards their trends and sparklines, the
charts data; a filter changes map, charts and URL together; the dashboard prints to A4 with
map, cards and charts; a viewer's page never receives an exact sensitive point; a visitor
not signed in is sent to sign in, or sees only the published indicator when one is; the
pages fit a 390 px wide phone. Screenshots and the printed PDF go to
var/test-artifacts/<database>/ (tests.browser.artifact_path)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser import artifact_path
from tests.builders import SHARED_DATA

PASSWORD = "fieldkit-demo"
PROVINCES = SHARED_DATA / "boundaries" / "png_adm1_ocha"
# What the printed dashboard is checked for, as the PDF's pages rendered to PNG show it:
# the map's background (Leaflet's, no basemap in tests) and the effort chart's bars.
MAP_GREY = (221, 221, 221)
EFFORT_GREEN = (129, 199, 132)


@pytest.fixture(scope="module")
def demo(fieldkit_server: Any) -> dict[str, Any]:
    # Two years: a card's trend is the change since the year before.
    fieldkit_server.manage("load_demo", "--years", "2")
    fieldkit_server.manage("compute_indicators")
    fieldkit_server.manage(
        "load_context_boundaries", str(PROVINCES), "--source", "OCHA COD-AB 2018 (humanitarian use)"
    )
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


def share_of(picture: Path | Image.Image, colour: tuple[int, int, int], margin: int = 6) -> float:
    """The share of a picture's pixels within `margin` of `colour` on every channel."""
    image = (picture if isinstance(picture, Image.Image) else Image.open(picture)).convert("RGB")
    near = sum(
        n
        for n, (r, g, b) in image.getcolors(image.width * image.height) or []
        if abs(r - colour[0]) <= margin and abs(g - colour[1]) <= margin and abs(b - colour[2]) <= margin
    )
    return near / (image.width * image.height)


def overflow(page: Any) -> int:
    """How far the page reaches past the window's right edge, in CSS pixels."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def real_errors(page_log: Any) -> list[str]:
    """Errors less the basemap, which tests never reach (MAP_TILES_URL points nowhere)."""
    # Chromium also reports each failed load on the console, without its address: the
    # response itself is in the log with its address, so those lines are left out.
    return [
        e
        for e in page_log.errors
        if "/no-basemap/" not in e and not e.startswith("console: Failed to load resource")
    ]


def test_overview_map_draws_every_area_over_the_provinces(fieldkit_server, demo, page, page_log):
    sign_in(page, fieldkit_server, "donor")
    page.goto(fieldkit_server.url("/maps/?indicator=effort.km|"))
    page.wait_for_function("document.body.dataset.loaded === 'areas'")
    # The layers are counted: what Leaflet holds, whatever it draws with.
    assert page.evaluate("window.overviewLayer.getLayers().length") == 5
    # The 22 provinces, drawn in their own pane under the areas, switched in the control.
    page.wait_for_function("window.contextLayer && window.contextLayer.getLayers().length === 22")
    assert page.locator(".leaflet-context-pane path").count() >= 22
    overlays = page.locator(".leaflet-control-layers-overlays").inner_text()
    assert "Provinces" in overlays and "Protected areas" in overlays
    assert "OCHA COD-AB 2018" in page.locator(".leaflet-control-attribution").inner_text()
    legend = page.locator("#legend").inner_text()
    assert "no data (not the same as 0)" in legend and "km" in legend
    # Hovering an area names it with its figure.
    point = page.evaluate(
        """() => {
            const layer = window.overviewLayer.getLayers()
                .find(l => l.feature.properties.name.startsWith('Tonda'));
            const p = layer._map.latLngToContainerPoint(layer.getCenter());
            const box = layer._map.getContainer().getBoundingClientRect();
            return [box.x + p.x, box.y + p.y];
        }"""
    )
    page.mouse.move(*point)
    # The province under it may name itself too (sticky tooltips follow the mouse over
    # both panes); the area's own tooltip must appear.
    tonda = "Tonda Wildlife Management Area: "
    tooltip = page.locator(".leaflet-tooltip-pane .leaflet-tooltip", has_text=tonda)
    tooltip.first.wait_for()
    assert tooltip.first.inner_text().startswith(tonda)
    page.evaluate("window.overviewLayer.getLayers()[0].fire('click')")
    page.wait_for_selector("#details table")
    assert "Patrol km" in page.locator("#details").inner_text()
    # Each key figure with a value (the demo has them all), none "no data".
    assert page.locator("#details tr").count() == 7
    assert "no data" not in page.locator("#details table").inner_text()
    page.screenshot(path=artifact_path("maps-overview.png"))
    assert page_log.blocked == []
    assert real_errors(page_log) == []


def test_visitors_see_only_what_is_published(fieldkit_server, demo, page, page_log):
    # Nothing published (the default): the overview sends a visitor to sign in.
    page.goto(fieldkit_server.url("/maps/"))
    assert "/accounts/login/?next=/maps/" in page.url
    refused = "fetch('/maps/data/areas.geojson?indicator=effort.km|&year=2025').then(r => r.status)"
    assert page.evaluate(refused) == 401

    received: list[str] = []
    page.on("request", lambda r: received.append(r.url))
    with fieldkit_server.sibling(FIELDKIT_PUBLISH_INDICATORS="effort.km|") as public:
        page.goto(public.url("/maps/"))
        assert page.url.startswith(public.url("/maps/?indicator="))
        page.wait_for_function("document.body.dataset.loaded === 'areas'")
        page.wait_for_function("window.contextLayer && window.contextLayer.getLayers().length === 22")
        assert page.locator("select[name=indicator] option").all_inner_texts() == ["Patrol effort: km"]
        features = page.evaluate("window.overviewLayer.getLayers().map(l => l.feature.properties)")
        assert len(features) == 5 and all(f["shared"] for f in features)
        assert any(f["value"] is not None for f in features)
        # No dashboards to open, a way to sign in; a click shows the published figure only.
        assert page.locator("a[href^='/maps/areas/']").count() == 0
        assert page.get_by_role("link", name="Sign in").count() == 1
        page.evaluate("window.overviewLayer.getLayers()[0].fire('click')")
        assert "Patrol effort: km" in page.locator("#details").inner_text()
        assert page.locator("#details table").count() == 0
        page.screenshot(path=artifact_path("maps-overview-public.png"))
        year = page.locator("select[name=year]").input_value()
        # What the page asked for: the published layer and the context, nothing else.
        asked = {
            r.split("?")[0].removeprefix(public.url(""))
            for r in received
            if "/static/" not in r and "/no-basemap/" not in r
        }
        assert asked == {"/maps/", "/maps/data/areas.geojson", "/maps/data/context.geojson"}, asked
        # Anything else is refused: another indicator, points, tracks, the API, dashboards.
        statuses = page.evaluate(
            """(urls) => Promise.all(urls.map(u => fetch(u).then(r => r.status)))""",
            [
                f"/maps/data/areas.geojson?indicator=count.records|vertical:illicit&year={year}",
                "/maps/data/observations.geojson",
                "/maps/data/tracks.geojson",
                f"/api/v1/indicators/?area={demo['area']}",
            ],
        )
        assert statuses[:3] == [403, 401, 401] and statuses[3] in (401, 403), statuses
        page.goto(public.url(f"/maps/areas/{demo['area']}/"))
        assert "/accounts/login/" in page.url
    assert page_log.blocked == []
    refused = [e for e in real_errors(page_log) if not e.startswith(("401 ", "403 "))]
    assert refused == []


def test_the_pages_fit_a_phone(fieldkit_server, demo, page, page_log):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, fieldkit_server, "donor")
    page.goto(fieldkit_server.url("/maps/?indicator=effort.km|"))
    page.wait_for_function("document.body.dataset.loaded === 'areas'")
    assert overflow(page) <= 0
    page.screenshot(path=artifact_path("maps-overview-390.png"), full_page=True)
    page.goto(fieldkit_server.url(f"/maps/areas/{demo['area']}/"))
    page.wait_for_function("window.figuresLoaded >= 1 && window.trackCount !== undefined")
    page.wait_for_function("document.body.dataset.loading === '0'")
    assert overflow(page) <= 0
    # Two cards a row, the layer control folded away.
    tops = page.evaluate("[...document.querySelectorAll('#cards .card')].map(c => c.offsetTop)")
    assert len(tops) == 6 and len(set(tops)) == 3
    assert page.locator(".leaflet-control-layers-expanded").count() == 0
    page.screenshot(path=artifact_path("maps-dashboard-390.png"), full_page=True)
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
    # Each card's trend since the year before, and its sparkline over the years.
    assert page.locator("#cards .trend").count() == 6
    assert "since" in page.locator("#cards .card").first.inner_text()
    sparklines = "[...document.querySelectorAll('#cards canvas')].filter(c => Chart.getChart(c)).length"
    assert page.evaluate(sparklines) == 6
    assert overflow(page) <= 0
    assert "Zones" in page.locator(".leaflet-control-layers-overlays").inner_text()
    legend = page.locator("#map-legend").inner_text()
    assert "Tracks" in legend and "Observations" in legend and "leg-days in view" in legend
    # The gridded layer: switched on, its cells are drawn.
    page.get_by_label("Records per grid cell").check()
    page.wait_for_function(
        "dashboard.map.hasLayer(dashboard.layers.cells) && dashboard.layers.cells.getLayers().length === 1 "
        "&& dashboard.layers.cells.getLayers()[0].getLayers().length > 0"
    )
    assert "Records per grid cell" in page.locator("#map-legend").inner_text()
    # The charts take their laid-out size once Chart.js has seen their boxes resized.
    page.wait_for_timeout(1500)
    page.screenshot(path=artifact_path("maps-dashboard.png"), full_page=True)

    # One filter for everything: the URL, the observations and the rate chart follow it.
    rate = "Chart.getChart('chart-rate').data.datasets[0].data.map(d => d.y)"
    rate_before = page.evaluate(rate)
    loaded = page.evaluate("window.figuresLoaded")
    page.select_option("select[name=vertical]", "biodiversity")
    page.wait_for_function(f"window.figuresLoaded > {loaded}")
    page.wait_for_function("document.body.dataset.loading === '0'")
    assert "vertical=biodiversity" in page.url
    verticals = page.evaluate("[...new Set(window.observationFeatures.map(f => f.properties.vertical))]")
    assert verticals == ["biodiversity"]
    assert page.locator(".subject-label").inner_text() == "Biodiversity"
    assert page.evaluate(rate) != rate_before
    assert "Biodiversity" in page.locator("#period-label").inner_text()
    page.screenshot(path=artifact_path("maps-dashboard-filtered.png"), full_page=True)
    # The shared URL opens the same view.
    page.goto(page.url)
    page.wait_for_function("window.figuresLoaded >= 1")
    assert page.locator("select[name=vertical]").input_value() == "biodiversity"

    # Printed on A4: map, cards and charts on the pages. Before printing the map takes the
    # paper's width (190 mm: 718 CSS px) and the area is fitted to it: what it showed then
    # is kept by a listener run after the page's own.
    page.evaluate(
        """() => window.addEventListener('beforeprint', () => {
            const m = dashboard.map, box = m.getContainer().getBoundingClientRect();
            window.printedMap = { width: box.width, fits: m.getBounds().contains(dashboard.bounds) };
        })"""
    )
    pdf = artifact_path("maps-dashboard.pdf")
    page.pdf(path=str(pdf), format="A4", print_background=True)
    printed = page.evaluate("window.printedMap")
    assert printed["fits"] and 710 < printed["width"] < 725, printed
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
    for words in ("Patrol km", "Person-days", "Records per", "METT %", "since"):  # the cards
        assert words in text, words
    for caption in ("Patrol effort per month", "Encounter rate per 10 km", "Species richness", "METT by"):
        assert caption in text, caption
    assert "Tracks" in text and "Biodiversity" in text  # the legend; the filter in words
    for old in artifact_path("").glob("maps-dashboard-print-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(artifact_path("maps-dashboard-print"))], check=True
    )
    printed_pages = sorted(artifact_path("").glob("maps-dashboard-print-*.png"))
    assert len(printed_pages) == pages
    # The map on the first page, whole within the paper's margins; the charts' bars printed.
    first = printed_pages[0]
    assert share_of(first, MAP_GREY) > 0.1
    with Image.open(first) as image:
        # The right margin (the last 5 mm of the paper): nothing of the map there.
        assert share_of(image.crop((image.width - 12, 0, image.width, image.height)), MAP_GREY) == 0
    assert sum(share_of(p, EFFORT_GREEN) for p in printed_pages) > 0.002

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
    # The areas outlined under the records (no basemap here).
    page.wait_for_function("window.areaOutlines > 0")
    page.screenshot(path=artifact_path("maps-species.png"), full_page=True)

    page.context.clear_cookies()
    sign_in(page, fieldkit_server, "officer")
    page.goto(fieldkit_server.url("/maps/enforcement/"))
    page.wait_for_function("window.illicitFeatures !== undefined && window.areaOutlines > 0")
    verticals = page.evaluate("[...new Set(window.illicitFeatures.map(f => f.properties.vertical))]")
    assert verticals == ["illicit"]
    assert page.locator("#hotspots li[data-lon]").count() >= 1
    # The hotspots drawn above the clusters, which would hide them.
    assert (
        page.locator(".leaflet-hotspots-pane path").count() == page.locator("#hotspots li[data-lon]").count()
    )
    page.screenshot(path=artifact_path("maps-enforcement.png"))
    assert page_log.blocked == []
    assert real_errors(page_log) == []
