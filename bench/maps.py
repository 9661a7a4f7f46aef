"""Map data benchmark: latency of the layers the map pages load, over a million points.

    .venv/bin/python bench/maps.py [--points 1000000] [--requests 200]

Without DATABASE_URL it starts a throwaway PostGIS cluster on a free loopback port (and
stops it afterwards); with DATABASE_URL it uses that PostGIS server. The work happens in a
test database created and dropped by Django's test machinery.

Set-up, not timed: the five demo areas with their zones, the species list (5 % of taxa made
sensitive), the standard forms, and `--points` observations written straight into the
database with generate_series (not through HTTP): spread over the areas' extents, five
years, every vertical, a third of them species records, each with its ObservationPlace row.

Timed, through Django's test client as a signed-in national viewer (every area, sensitive
points generalised, so the generalisation is in every answer): the observation layer at
random viewports of a 1280×800 screen, clusters at zooms 5–13 and single points at zoom
15–16, each asked with an empty cache ("cold") and then again ("again": the cached blocks
of clusters); the choropleth of the overview map (area outlines with a year's value); the
tracks layer. Figures printed: p50 and p95 per layer, in ms; the time to count the
observations per cluster cell (maps.clusters.rebuild); and the area dashboard's weight
before the basemap, the heaviest of the areas' (the page, its static files gzip-compressed
as served, and the data its scripts load on opening).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from typing import Any

from harness import rerun_in_throwaway_postgis, test_database

SCREEN = (1280, 800)
# The dashboard's map on that screen (maps.css: the page's width less its margins, 28rem high).
DASHBOARD_MAP = (1248, 448)


# What a browser says it accepts: answers are timed and weighed as it receives them.
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per layer")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner or os.getenv("DATABASE_URL"):
        run(args.points, args.requests, args.seed)
        return
    rerun_in_throwaway_postgis(
        __file__,
        ["--points", str(args.points), "--requests", str(args.requests), "--seed", str(args.seed)],
        55640,
        "fieldkit_bench",
    )


def run(points: int, requests: int, seed: int) -> None:
    with test_database():
        from django.db import connection

        if connection.vendor != "postgresql":
            raise SystemExit("bench/maps.py measures PostGIS: set DATABASE_URL or let it start one")
        user, extent = prepare(points, seed)
        build_clusters()
        measure(user, extent, requests, seed)
        page_weight(user)


def prepare(points: int, seed: int) -> tuple[object, tuple[float, float, float, float]]:
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
    # Real demo submissions first (patrols with tracks), processed as the task does.
    for _stem, xml in list(demo.generate_submissions(areas, versions, 2024, seed=seed))[:300]:
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
                   10, g.t, g.t::date, box.area_id, cat.slug, cat.vertical, 1, '', '', '[]'
            FROM g
            JOIN box ON box.i = g.n %% %(n_boxes)s
            JOIN cat ON cat.i = (g.n / 7) %% %(n_categories)s
            """,
            {
                "boxes": __import__("json").dumps(
                    [[a.pk, *box] for a, box in zip(areas, boxes, strict=True)]
                ),
                "categories": __import__("json").dumps(categories),
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
    xs = [b[0] for b in boxes] + [b[2] for b in boxes]
    ys = [b[1] for b in boxes] + [b[3] for b in boxes]
    total = Observation.objects.count()
    print(f"set-up: {total:,} observations in {len(areas)} areas, {time.perf_counter() - started:.0f} s")
    return viewer, (min(xs), min(ys), max(xs), max(ys))


def build_clusters() -> None:
    from maps import clusters

    started = time.perf_counter()
    rows = clusters.rebuild()
    print(
        f"cluster counts (refresh_map_clusters): {rows:,} rows, zoom 0-{clusters.CLUSTER_MAX_ZOOM}, "
        f"{time.perf_counter() - started:.1f} s"
    )


def opening_requests(area: Any, zoom: int) -> list[tuple[str, dict[str, object]]]:
    """What the area dashboard's scripts (maps/static/maps/area.js) ask for on opening, with
    no filter: the area, its zones, tracks and observations in the area's view, the yearly
    values the cards and charts draw and the two monthly series. Not the grid cells: they
    are asked for when their layer is switched on."""
    west, south, east, north = area.boundary.extent
    view = {"bbox": f"{west},{south},{east},{north}", "zoom": zoom, "area": area.pk}
    base = {"area": area.pk, "zone": 0, "page_size": 5000}
    illicit = "vertical:illicit"
    yearly = [
        {"indicator_prefix": "effort."},
        {"indicator": "count.records", "subject": illicit},
        {"indicator": "cpue.records.km", "subject": illicit},
        {"indicator": "bio.richness"},
        {"indicator": "bio.chao1"},
        {"indicator": "mett.percent"},
        {"indicator_prefix": "finance."},
    ]
    return [
        (f"/api/v1/areas/{area.pk}/", {}),
        ("/api/v1/zones/", {"area": area.pk}),
        ("/maps/data/tracks.geojson", view),
        ("/maps/data/observations.geojson", view),
        *(("/api/v1/indicators/", {**base, "period_kind": "Y", **which}) for which in yearly),
        ("/api/v1/indicators/", {**base, "period_kind": "M", "indicator": "effort.km"}),
        (
            "/api/v1/indicators/",
            {**base, "period_kind": "M", "indicator": "cpue.records.km", "subject": illicit},
        ),
    ]


def page_weight(user: object) -> None:
    """The area dashboard's weight before the basemap, for every area; the heaviest is
    printed: the page, the static files it names (gzip-compressed, as WhiteNoise serves
    them), and the answers its scripts ask for on opening (opening_requests), as a browser
    receives them (JSON gzip-compressed: fieldkit.compression)."""
    import gzip
    import re

    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.test import Client, override_settings

    from protected_areas.models import ProtectedArea

    client = Client(headers=BROWSER)
    client.force_login(user)
    # The names as the source tree has them (no collectstatic here): the sizes are those of
    # the same files.
    plain = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    weights = []
    for area in ProtectedArea.objects.order_by("wdpa_id"):
        with override_settings(STORAGES=plain):
            page = client.get(f"/maps/areas/{area.pk}/", secure=True)
        assert page.status_code == 200
        html = page.content
        statics, static_raw = 0, 0
        for name in sorted(set(re.findall(rb'(?:src|href)="/static/([^"?]+)"', html))):
            found = finders.find(name.decode())
            assert found, name
            body = open(found, "rb").read()  # noqa: SIM115 (read once)
            static_raw += len(body)
            statics += len(gzip.compress(body, 9))
        zoom = fitted_zoom(area.boundary.extent)
        answers = 0
        for url, params in opening_requests(area, zoom):
            response = client.get(url, params, secure=True)
            assert response.status_code == 200, (url, response.status_code)
            answers += len(response.content)
        weights.append(
            (len(html) + statics + answers, area.name, len(html), statics, static_raw, answers, zoom)
        )
    total, name, html_size, statics, static_raw, answers, zoom = max(weights)
    print(
        f"area dashboard weight before the basemap, heaviest of {len(weights)} areas ({name}): "
        f"{total / 1024:,.0f} KiB (goal < 1 MB) = page {html_size / 1024:,.0f} KiB + static files "
        f"{statics / 1024:,.0f} KiB gzip ({static_raw / 1024:,.0f} KiB raw) + data {answers / 1024:,.0f} KiB "
        f"(zoom {zoom}); lightest {min(weights)[0] / 1024:,.0f} KiB"
    )


def fitted_zoom(extent: tuple[float, float, float, float]) -> int:
    """The zoom at which Leaflet fits `extent` in the dashboard's map."""
    import math

    from maps.geo import degrees_per_pixel

    west, south, east, north = extent
    scale = min(
        DASHBOARD_MAP[0] * degrees_per_pixel(0) / (east - west),
        DASHBOARD_MAP[1] * degrees_per_pixel(0) / (north - south),
    )
    return max(0, min(18, math.floor(math.log2(scale))))


def viewport(rng: random.Random, extent: tuple[float, float, float, float], zoom: int) -> str:
    from maps.geo import degrees_per_pixel

    width, height = (px * degrees_per_pixel(zoom) for px in SCREEN)
    x = rng.uniform(extent[0], extent[2])
    y = rng.uniform(extent[1], extent[3])
    return f"{x - width / 2},{y - height / 2},{x + width / 2},{y + height / 2}"


def timed(client: object, url: str, params: dict[str, object], n: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url, params, secure=True)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (response.status_code, response.content[:300])
        size = max(size, len(response.content))
    return times, size


def report(label: str, times: list[float], size: int) -> None:
    times = sorted(times)
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    print(
        f"  {label:<34} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
        f"largest answer {size / 1024:,.0f} KiB gzip   ({len(times)} requests)"
    )


def measure(user: object, extent: tuple[float, float, float, float], requests: int, seed: int) -> None:
    from django.core.cache import cache
    from django.test import Client

    client = Client(headers=BROWSER)
    client.force_login(user)
    rng = random.Random(seed)
    print("latency, as a national viewer (sensitive points generalised):")
    for label, zooms in (
        ("observation clusters, zoom 5-13", range(5, 14)),
        ("single points, zoom 15-16", (15, 16)),
    ):
        views = []
        for _ in range(requests):
            zoom = rng.choice(list(zooms))
            views.append({"bbox": viewport(rng, extent, zoom), "zoom": zoom})
        cold, warm, size = [], [], 0
        for params in views:
            cache.clear()
            t, s = timed(client, "/maps/data/observations.geojson", params, 1)
            cold += t
            size = max(size, s)
            warm += timed(client, "/maps/data/observations.geojson", params, 1)[0]
        report(label + ", cold", cold, size)
        report(label + ", again", warm, size)
    times, size = timed(
        client, "/maps/data/areas.geojson", {"indicator": "effort.km|", "year": 2024}, requests
    )
    report("choropleth (areas and a value)", times, size)
    times, size = [], 0
    for _ in range(requests):
        zoom = rng.choice(range(8, 14))
        t, s = timed(
            client, "/maps/data/tracks.geojson", {"bbox": viewport(rng, extent, zoom), "zoom": zoom}, 1
        )
        times += t
        size = max(size, s)
    report("patrol tracks, zoom 8-13", times, size)


if __name__ == "__main__":
    main()
