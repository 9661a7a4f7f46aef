/* fieldkit map pages: what the overview and the dashboards share. No framework; Leaflet
   (django-leaflet's copy) and Chart.js from the npm registry, served as static files. */
(function () {
  "use strict";
  var FK = (window.FK = {});

  FK.options = JSON.parse(document.getElementById("map-options").textContent);

  FK.getJSON = function (url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(r.status + " " + url); }
      return r.json();
    });
  };

  /* Every page of a paginated DRF list, concatenated. */
  FK.getAll = function (url) {
    return FK.getJSON(url).then(function (page) {
      var rows = page.results || page.features || [];
      if (!page.next) { return rows; }
      return FK.getAll(page.next).then(function (more) { return rows.concat(more); });
    });
  };

  FK.query = function (params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] !== "" && params[k] !== null && params[k] !== undefined) {
        parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
      }
    });
    return parts.join("&");
  };

  /* A Leaflet map that draws its own layers whether or not the basemap is reachable. */
  FK.map = function (id) {
    /* SVG, not canvas: a printed page resizes the map, and SVG redraws at once. */
    var map = L.map(id, { zoomSnap: 0.5 }).setView(FK.options.center, FK.options.zoom);
    if (FK.options.basemap) {
      L.tileLayer(FK.options.basemap, { attribution: FK.options.attribution, maxZoom: 19 }).addTo(map);
    }
    return map;
  };

  /* The protected areas in view as thin outlines under the data, loaded again as the map
     moves: without a basemap (offline, or none configured) they are what places the
     points. window.areaOutlines: how many the last answer drew. */
  FK.areaOutlines = function (map) {
    var group = L.layerGroup().addTo(map);
    var asked = 0;
    function load() {
      var n = ++asked;
      FK.getJSON("/api/v1/areas/?" + FK.query({ bbox: FK.view(map).bbox, page_size: 500 })).then(function (doc) {
        if (n !== asked) { return; }
        group.clearLayers();
        group.addLayer(L.geoJSON(doc, { style: { color: "#1b5e20", weight: 1.5, opacity: 0.8, fill: false }, interactive: false }));
        window.areaOutlines = doc.features.length;
      });
    }
    map.on("moveend", load);
    load();
    return group;
  };

  /* The map's view as the data endpoints take it: bbox (clamped to the world) and zoom. */
  FK.view = function (map) {
    var b = map.getBounds();
    return {
      bbox: [Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()), Math.min(180, b.getEast()), Math.min(90, b.getNorth())].join(","),
      zoom: Math.round(map.getZoom())
    };
  };

  /* The first and last day of a month input's value ("2024-05"), or "" when empty. */
  FK.firstDay = function (month) { return month ? month + "-01" : ""; };
  FK.lastDay = function (month) {
    if (!month) { return ""; }
    return new Date(Date.UTC(+month.slice(0, 4), +month.slice(5, 7), 0)).toISOString().slice(0, 10);
  };

  FK.verticalColours = {
    illicit: "#c62828", biodiversity: "#2e7d32", resource_use: "#ef6c00", management: "#1565c0"
  };

  /* Up to five classes (YlGn) on quantile breaks of the values that exist; null is "no data". */
  FK.ramp = ["#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837"];
  FK.breaks = function (values) {
    var v = values.filter(function (x) { return x !== null && x !== undefined; }).sort(function (a, b) { return a - b; });
    if (!v.length) { return []; }
    var out = [];
    for (var i = 1; i < FK.ramp.length; i++) {
      var b = v[Math.min(v.length - 1, Math.floor((i * v.length) / FK.ramp.length))];
      /* Each break once: many equal values make fewer classes, not empty ones. */
      if (!out.length || b > out[out.length - 1]) { out.push(b); }
    }
    return out;
  };
  FK.classOf = function (value, breaks) {
    var i = 0;
    while (i < breaks.length && value > breaks[i]) { i++; }
    return i;
  };
  FK.fmt = function (x, digits) {
    if (x === null || x === undefined) { return "no data"; }
    var d = digits === undefined ? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2) : digits;
    return Number(x).toLocaleString("en", { maximumFractionDigits: d, minimumFractionDigits: 0 });
  };

  /* Server clusters as circles with their count; single points as dots with a popup. */
  FK.observationLayer = function (geojson) {
    return L.geoJSON(geojson, {
      pointToLayer: function (f, latlng) {
        var p = f.properties, colour = FK.verticalColours[p.vertical] || "#555";
        if (p.cluster) {
          var size = Math.min(44, 16 + Math.round(Math.log2(p.count + 1) * 4));
          return L.marker(latlng, {
            icon: L.divIcon({
              className: "", iconSize: [size, size],
              html: '<div class="cluster-icon" style="width:' + size + "px;height:" + size + "px;background:" + colour +
                '" title="' + p.count + " " + p.vertical + ' records">' + p.count + "</div>"
            })
          });
        }
        return L.circleMarker(latlng, { radius: 6, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 0.9 });
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        if (p.cluster) { return; }
        var html = "<strong>" + (p.taxon || p.category) + "</strong><br>" + p.category + "<br>" +
          (p.time ? new Date(p.time).toLocaleString() : "time unknown");
        if (p.individualCount) { html += "<br>" + p.individualCount + " individuals"; }
        if (p.dataGeneralizations) { html += "<br><em>" + p.dataGeneralizations + "</em>"; }
        (p.photos || []).forEach(function (name) {
          html += '<br><a href="/api/v1/observations/' + f.id + "/photos/" + encodeURIComponent(name) +
            '" target="_blank"><img src="/api/v1/observations/' + f.id + "/photos/" + encodeURIComponent(name) +
            '" alt="photo" style="max-width:160px;max-height:120px"></a>';
        });
        layer.bindPopup(html);
      }
    });
  };
})();
