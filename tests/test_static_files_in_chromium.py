"""Headless Chromium on fieldkit served in the production shape (gunicorn, DEBUG off): the
admin's stylesheets apply, and the browser libraries load from fieldkit itself and work
together on one page, with nothing fetched from anywhere but the server.

Screenshots: var/test-artifacts/<database>/ (tests/browser.py).
"""

from __future__ import annotations

import re

from django.template import engines

from tests.browser import artifact_path

# Django's admin header: --header-bg is var(--secondary), #417690.
ADMIN_HEADER_BLUE = "rgb(65, 118, 144)"

# What a page of the maps needs in its head, rendered by Django's own template tags with
# the production storage: hashed names, django-leaflet's Leaflet and its settings.
LIBRARIES_PAGE = """{% load static leaflet_tags %}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>libraries</title>
{% leaflet_css %}
<link rel="stylesheet" href="{% static 'vendor/leaflet.markercluster/MarkerCluster.css' %}">
<link rel="stylesheet" href="{% static 'vendor/leaflet.markercluster/MarkerCluster.Default.css' %}">
{% leaflet_js %}
<script src="{% static 'vendor/leaflet.markercluster/leaflet.markercluster.js' %}"></script>
<script src="{% static 'vendor/leaflet-vector-tile-layer/VectorTileLayer.umd.min.js' %}"></script>
<script src="{% static 'vendor/chart.js/chart.umd.min.js' %}"></script>
<script src="{% static 'vendor/chartjs-chart-error-bars/index.umd.min.js' %}"></script>
</head><body style="margin:0">
<div id="map" style="width:640px;height:420px;float:left"></div>
<div style="width:560px;height:420px;float:left"><canvas id="chart"></canvas></div>
<script>
  var map = L.map("map", {attributionControl: false, maxZoom: 18}).setView([-6.5, 147.0], 6);
  var points = L.markerClusterGroup();
  for (var i = 0; i < 300; i++) {
    points.addLayer(L.marker([-6.5 + Math.sin(i) * 1.5, 147.0 + Math.cos(i * 1.3) * 2]));
  }
  map.addLayer(points);
  var lone = L.marker([-10.2, 150.4]).addTo(map);
  window.tiles = VectorTileLayer("/no-tiles/{z}/{x}/{y}.pbf", {});
  window.chart = new Chart(document.getElementById("chart"), {
    type: "barWithErrorBars",
    data: {
      labels: ["2023", "2024", "2025"],
      datasets: [{
        label: "snares per 10 km",
        data: [
          {y: 4.1, yMin: 3.2, yMax: 5.0},
          {y: 2.6, yMin: 1.9, yMax: 3.4},
          {y: 1.8, yMin: 1.1, yMax: 2.7}
        ]
      }]
    },
    options: {animation: false}
  });
</script>
</body></html>
"""


def test_admin_login_page_is_styled_in_chromium(fieldkit_server, page, page_log):
    page.goto(fieldkit_server.url("/admin/login/"))
    header = page.locator("#header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == ADMIN_HEADER_BLUE
    button = page.locator("input[type=submit]")
    assert button.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    stylesheets = page.evaluate("[...document.styleSheets].map(s => s.href).filter(Boolean)")
    assert stylesheets and all(re.search(r"/static/admin/css/.+\.[0-9a-f]{12}\.css$", s) for s in stylesheets)
    page.screenshot(path=artifact_path("admin-login.png"))
    assert page_log.blocked == []
    assert page_log.errors == []


def test_browser_libraries_load_and_work_together_in_chromium(fieldkit_server, page, page_log, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.STATIC_ROOT = fieldkit_server.static_root
    html = engines["django"].from_string(LIBRARIES_PAGE).render()
    assert "/static/vendor/chart.js/chart.umd.min." in html

    page.goto(fieldkit_server.url("/healthz"))
    page.set_content(html)
    page.wait_for_function("document.querySelectorAll('.marker-cluster').length > 0")
    page.wait_for_function("[...document.images].every(i => i.complete)")
    found = page.evaluate(
        """() => ({
            leaflet: L.version,
            clusters: document.querySelectorAll('.marker-cluster').length,
            markerIcons: [...document.querySelectorAll('img.leaflet-marker-icon')]
                .map(i => [i.getAttribute('src'), i.naturalWidth]),
            vectorTiles: window.tiles instanceof L.GridLayer,
            errorBars: !!Chart.registry.getController('barWithErrorBars'),
            bars: chart.getDatasetMeta(0).data.length,
        })"""
    )
    page.screenshot(path=artifact_path("browser-libraries.png"))
    assert found["leaflet"].startswith("1.")
    assert found["clusters"] > 0
    # The lone marker's icon is Leaflet's own, found under its plain name (LEAFLET_CONFIG).
    assert found["markerIcons"] == [["/static/leaflet/images/marker-icon.png", 25]]
    assert found["vectorTiles"] and found["errorBars"] and found["bars"] == 3
    assert page_log.blocked == []
    assert page_log.errors == []
