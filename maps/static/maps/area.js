/* An area's dashboard: one filter (period, vertical, category), kept in the URL, drives the
   map layers, the cards and the charts together. */
(function () {
  "use strict";
  var area = FK.options.area;
  var form = document.getElementById("filters");
  var url = new URL(window.location.href);
  var FIELDS = ["since", "until", "vertical", "category"];
  FIELDS.forEach(function (name) { if (url.searchParams.get(name)) { form.elements[name].value = url.searchParams.get(name); } });

  var map = FK.map("map");
  /* Grid cells under tracks and points, which they would hide. */
  map.createPane("grid");
  map.getPane("grid").style.zIndex = 350;
  var overlays = {};
  var layers = { tracks: L.layerGroup().addTo(map), observations: L.layerGroup().addTo(map), cells: L.layerGroup(), rates: L.layerGroup() };
  var control = L.control.layers(null, {
    "Patrol tracks (colour: km)": layers.tracks, "Observations": layers.observations, "Records per grid cell": layers.cells,
    "Records per 10 km per grid cell": layers.rates
  }, { collapsed: window.innerWidth < 700 }).addTo(map);
  var charts = {};
  var pending = 0;
  /* For whoever drives the page (and its browser tests). */
  window.dashboard = { map: map, layers: layers };
  function busy(delta) { pending += delta; document.body.dataset.loading = String(pending); }

  function filters() {
    var f = {};
    FIELDS.forEach(function (n) { f[n] = form.elements[n].value; });
    return f;
  }
  var firstDay = FK.firstDay, lastDay = FK.lastDay;
  function layerParams() {
    var f = filters();
    return FK.query(Object.assign({
      area: area, since: firstDay(f.since), until: lastDay(f.until), vertical: f.vertical, category: f.category
    }, FK.view(map)));
  }
  function subject() {
    var f = filters();
    /* Without a choice, rates and counts are those of illicit activity: the figure the
       agency reports first. */
    return f.category ? "category:" + f.category : f.vertical ? "vertical:" + f.vertical : "vertical:illicit";
  }

  /* --- Map ------------------------------------------------------------------------------ */
  FK.getJSON("/api/v1/areas/" + area + "/").then(function (feature) {
    var outline = L.geoJSON(feature, { style: { color: "#1b5e20", weight: 2, fill: false }, interactive: false }).addTo(map);
    map.fitBounds(outline.getBounds());
    window.dashboard.bounds = outline.getBounds();
    reloadLayers();
  });
  FK.getJSON("/api/v1/zones/?" + FK.query({ area: area })).then(function (data) {
    var zones = L.geoJSON(data.features ? data : { type: "FeatureCollection", features: data.results ? data.results.features || data.results : [] }, {
      style: { color: "#6a1b9a", weight: 1, dashArray: "3 3", fillOpacity: 0.03 },
      onEachFeature: function (f, l) { l.bindTooltip((f.properties && f.properties.name) || "zone"); }
    });
    control.addOverlay(zones, "Zones");
    zones.addTo(map);
  });

  var trackRamp = ["#fee391", "#fec44f", "#fe9929", "#d95f0e", "#993404"];
  /* The legend under the map: what the colours of the layers shown mean. */
  var legend = { tracks: null, cells: {} };
  function classes(ramp, breaks, shape) {
    if (!breaks.length) { return ""; }
    return ramp.slice(0, breaks.length + 1).map(function (colour, i) {
      var text = i === 0 ? "≤ " + FK.fmt(breaks[0]) : i === breaks.length ? "> " + FK.fmt(breaks[i - 1]) : FK.fmt(breaks[i - 1]) + "–" + FK.fmt(breaks[i]);
      return '<span class="item"><span class="' + shape + '" style="' + (shape === "line" ? "border-color:" : "background:") + colour + '"></span>' + text + "</span>";
    }).join(" ");
  }
  function drawLegend() {
    var html = "";
    if (legend.tracks && map.hasLayer(layers.tracks)) {
      var t = legend.tracks;
      html += '<div class="key"><strong>Tracks</strong> (km per leg-day) ' + classes(trackRamp, t.breaks, "line") +
        " · " + t.count + " leg-days in view; in the filter " + FK.fmt(t.effort.km) + " km, " + FK.fmt(t.effort.person_days) + " person-days</div>";
    }
    if (map.hasLayer(layers.observations)) {
      html += '<div class="key"><strong>Observations</strong> ' + Object.keys(FK.verticalColours).map(function (v) {
        return '<span class="item"><span class="dot" style="background:' + FK.verticalColours[v] + '"></span>' + v.replace("_", " ") + "</span>";
      }).join(" ") + ' <span class="item"><span class="dot" style="background:#555"></span>other</span> (a circle with a number: that many records)</div>';
    }
    [["cells", "Records per grid cell"], ["rates", "Records per 10 km per grid cell"]].forEach(function (pair) {
      var shown = legend.cells[pair[0]];
      if (shown && map.hasLayer(layers[pair[0]])) {
        html += '<div class="key"><strong>' + pair[1] + ", " + shown.year + "</strong> " + classes(FK.ramp, shown.breaks, "swatch") +
          ' <span class="item"><span class="swatch nodata"></span>no data' + (pair[0] === "rates" ? " (no effort)" : "") + "</span></div>";
      }
    });
    document.getElementById("map-legend").innerHTML = html;
  }
  map.on("overlayadd overlayremove", drawLegend);

  var shownParams = null;
  function reloadLayers() {
    var params = layerParams();
    /* Fitting the map to the area moves it: the same view is not asked for twice. */
    if (params === shownParams) { return; }
    shownParams = params;
    busy(2);
    FK.getJSON("/maps/data/tracks.geojson?" + params).then(function (data) {
      var breaks = FK.breaks(data.features.map(function (f) { return f.properties.distance_km; }));
      layers.tracks.clearLayers();
      layers.tracks.addLayer(L.geoJSON(data, {
        style: function (f) { return { color: trackRamp[FK.classOf(f.properties.distance_km, breaks)], weight: 3, opacity: 0.9 }; },
        onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindPopup("<strong>Leg-day " + p.day + "</strong><br>" + FK.fmt(p.distance_km) + " km, " + FK.fmt(p.patrol_hours) + " patrol hours, " + FK.fmt(p.person_days) + " person-days");
        }
      }));
      legend.tracks = { breaks: breaks, count: data.features.length, effort: data.effort };
      drawLegend();
      window.trackCount = data.features.length;
    }).finally(function () { busy(-1); });
    FK.getJSON("/maps/data/observations.geojson?" + params).then(function (data) {
      layers.observations.clearLayers();
      layers.observations.addLayer(FK.observationLayer(data));
      window.observationFeatures = data.features;
    }).finally(function () { busy(-1); });
  }
  var moved = null;
  map.on("moveend", function () { clearTimeout(moved); moved = setTimeout(reloadLayers, 250); });

  /* One indicator of the year on the grid: grey where there is no value (for a rate: no
     effort in the cell, "no data", never 0). Asked for when the layer is switched on (a
     large area has thousands of cells), and again when the filter changes while it is. */
  function gridLayer(layer, indicator, year, tip) {
    layer.clearLayers();
    busy(1);
    var f = filters();
    FK.getJSON("/api/v1/indicators/cells/?" + FK.query({ area: area, indicator: indicator, period_kind: "Y", period_start: year + "-01-01", subject: f.vertical ? "vertical:" + f.vertical : "" }))
      .then(function (data) {
        var breaks = FK.breaks(data.features.map(function (c) { return c.properties.value; }));
        legend.cells[layer === layers.cells ? "cells" : "rates"] = { breaks: breaks, year: year };
        drawLegend();
        layer.addLayer(L.geoJSON(data, {
          pane: "grid",
          style: function (c) {
            var v = c.properties.value;
            if (v === null || v === undefined) { return { color: "#9e9e9e", weight: 0.3, fillColor: "#9e9e9e", fillOpacity: 0.08 }; }
            return { color: "#555", weight: 0.3, fillColor: FK.ramp[FK.classOf(v, breaks)], fillOpacity: 0.7 };
          },
          onEachFeature: function (c, l) { l.bindTooltip(tip(c.properties)); }
        }));
      }).catch(function () {}).finally(function () { busy(-1); });
  }

  var grids = {
    cells: ["cell.records", function (p, year) { return FK.fmt(p.value) + " records in " + year; }],
    rates: ["cpue.records.km", function (p, year) {
      return p.value === null || p.value === undefined ? "No effort in " + year + ": no data"
        : FK.fmt(p.value) + " records per 10 km in " + year + " (" + FK.fmt(p.effort) + " km walked)";
    }]
  };
  var gridYear = null, gridDrawn = {};
  function loadGrid(name) {
    var key = gridYear + "|" + filters().vertical;
    if (!gridYear || !map.hasLayer(layers[name]) || gridDrawn[name] === key) { return; }
    gridDrawn[name] = key;
    var year = gridYear;
    gridLayer(layers[name], grids[name][0], year, function (p) { return grids[name][1](p, year); });
  }
  function loadCells(year) {
    gridYear = year || null;
    gridDrawn = {};
    Object.keys(grids).forEach(function (name) {
      layers[name].clearLayers();
      delete legend.cells[name];
      loadGrid(name);
    });
  }
  map.on("overlayadd", function (e) {
    Object.keys(grids).forEach(function (name) { if (e.layer === layers[name]) { loadGrid(name); } });
  });

  /* --- Cards and charts ------------------------------------------------------------------- */
  var CARDS = [
    ["effort.km", "Patrol km"], ["effort.person_days", "Person-days"], ["count.records", "Records"],
    ["cpue.records.km", "Records per 10 km"], ["bio.richness", "Species"], ["mett.percent", "METT %"]
  ];

  function series(rows, code, subj) {
    return rows.filter(function (r) { return r.indicator === code && r.subject === (subj || ""); })
      .sort(function (a, b) { return a.period_start < b.period_start ? -1 : 1; });
  }
  function chart(id, config) {
    var el = document.getElementById(id);
    if (!el) { return; }
    if (charts[id]) { charts[id].destroy(); }
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: true, aspectRatio: 2 }, config.options || {});
    charts[id] = new Chart(el, config);
  }
  function years(rows) {
    var seen = {};
    rows.forEach(function (r) { seen[r.period_start.slice(0, 4)] = true; });
    return Object.keys(seen).sort();
  }

  /* What the counts and rates are of, in words. */
  function subjectLabel() {
    var f = filters();
    return f.category ? form.elements.category.selectedOptions[0].textContent : f.vertical ? form.elements.vertical.selectedOptions[0].textContent : "illicit activity";
  }

  function drawCards(yearly) {
    var box = document.getElementById("cards");
    box.innerHTML = "";
    CARDS.forEach(function (card) {
      var ofSubject = card[0].indexOf("cpue") === 0 || card[0] === "count.records";
      var s = series(yearly, card[0], ofSubject ? subject() : "");
      var last = s[s.length - 1];
      var div = document.createElement("div");
      div.className = "card";
      div.dataset.indicator = card[0];
      var trend = "";
      if (last && last.change !== null && last.change !== undefined) {
        var since = last.period_start.slice(0, 4) - 1;
        trend = last.change > 0 ? '<span class="trend up">▲ ' + FK.fmt(last.change) + " since " + since + "</span>"
          : last.change < 0 ? '<span class="trend down">▼ ' + FK.fmt(-last.change) + " since " + since + "</span>"
            : '<span class="trend">＝ as in ' + since + "</span>";
      }
      div.innerHTML = '<div class="label">' + card[1] + (ofSubject ? " (" + subjectLabel() + ")" : "") + (last ? " · " + last.period_start.slice(0, 4) : "") + '</div><div class="value">' + FK.fmt(last ? last.value : null) + "</div>" + trend + '<div class="spark"><canvas></canvas></div>';
      box.appendChild(div);
      if (s.length > 1) {
        new Chart(div.querySelector("canvas"), {
          type: "line",
          data: { labels: s.map(function (r) { return r.period_start.slice(0, 4); }), datasets: [{ data: s.map(function (r) { return r.value; }), borderColor: "#2e7d32", pointRadius: 0, borderWidth: 1.5 }] },
          options: { animation: false, plugins: { legend: { display: false }, tooltip: { enabled: false } }, scales: { x: { display: false }, y: { display: false } }, maintainAspectRatio: false }
        });
      }
    });
  }

  function drawCharts(monthly, yearly) {
    var effort = series(monthly, "effort.km");
    chart("chart-effort", { type: "bar", data: { labels: effort.map(function (r) { return r.period_start.slice(0, 7); }), datasets: [{ label: "km", data: effort.map(function (r) { return r.value; }), backgroundColor: "#81c784" }] }, options: { plugins: { legend: { display: false } } } });

    var rate = series(monthly, "cpue.records.km", subject());
    document.querySelectorAll(".subject-label").forEach(function (el) { el.textContent = subjectLabel(); });
    chart("chart-rate", {
      type: "lineWithErrorBars",
      data: { labels: rate.map(function (r) { return r.period_start.slice(0, 7); }), datasets: [{ label: "records per 10 km", borderColor: "#c62828", backgroundColor: "#c62828", data: rate.map(function (r) { return { y: r.value, yMin: r.lower, yMax: r.upper }; }) }] },
      options: { plugins: { legend: { display: false } }, spanGaps: false }
    });

    var rich = series(yearly, "bio.richness"), chao = series(yearly, "bio.chao1");
    var labels = years(rich.concat(chao));
    function at(s, y, key) { var r = s.filter(function (x) { return x.period_start.slice(0, 4) === y; })[0]; return r ? r[key] : null; }
    chart("chart-richness", {
      type: "barWithErrorBars",
      data: { labels: labels, datasets: [
        { label: "observed species", backgroundColor: "#66bb6a", data: labels.map(function (y) { return { y: at(rich, y, "value") }; }) },
        { label: "Chao1 (95 % interval)", backgroundColor: "#1e88e5", data: labels.map(function (y) { return { y: at(chao, y, "value"), yMin: at(chao, y, "lower"), yMax: at(chao, y, "upper") }; }) }
      ] }
    });

    var mett = yearly.filter(function (r) { return r.indicator === "mett.percent" && r.subject !== ""; });
    var elements = Object.keys(mett.reduce(function (o, r) { o[r.subject] = 1; return o; }, {})).sort();
    var mettYears = years(mett);
    var palette = ["#90a4ae", "#4db6ac", "#7986cb", "#e57373", "#ffb74d"];
    chart("chart-mett", {
      type: "radar",
      data: { labels: elements, datasets: mettYears.map(function (y, i) {
        return { label: y, borderColor: palette[i % palette.length], backgroundColor: "transparent", data: elements.map(function (e) { var r = mett.filter(function (x) { return x.subject === e && x.period_start.slice(0, 4) === y; })[0]; return r ? r.value : null; }) };
      }) },
      /* Taller than the other charts, its legend beside it: the element names around the
         radar need the room. */
      options: {
        aspectRatio: 1.4,
        plugins: { legend: { position: "right" } },
        scales: { r: { min: 0, max: 100, ticks: { stepSize: 25 }, pointLabels: { font: { size: 12 } } } }
      }
    });

    var budget = yearly.filter(function (r) { return r.indicator === "finance.budget_per_km2"; });
    var spend = yearly.filter(function (r) { return r.indicator === "finance.spend_per_km2"; });
    var gap = yearly.filter(function (r) { return r.indicator === "finance.gap_basic"; });
    var currency = (budget[0] || spend[0] || gap[0] || { subject: "" }).subject;
    var money = currency.replace("currency:", "");
    var fy = years(budget.concat(spend, gap));
    function val(s, y) { var r = s.filter(function (x) { return x.subject === currency && x.period_start.slice(0, 4) === y; })[0]; return r ? r.value : null; }
    chart("chart-finance", {
      data: { labels: fy, datasets: [
        { type: "bar", label: "budget per km² (" + money + ")", backgroundColor: "#90caf9", data: fy.map(function (y) { return val(budget, y); }), yAxisID: "y" },
        { type: "bar", label: "spent per km² (" + money + ")", backgroundColor: "#1565c0", data: fy.map(function (y) { return val(spend, y); }), yAxisID: "y" },
        { type: "line", label: "funding gap, basic need (" + money + ")", borderColor: "#c62828", data: fy.map(function (y) { return val(gap, y); }), yAxisID: "gap" }
      ] },
      options: { scales: { y: { position: "left" }, gap: { position: "right", grid: { drawOnChartArea: false } } } }
    });
  }

  function reloadFigures() {
    var f = filters();
    var range = { since: firstDay(f.since), until: lastDay(f.until) };
    var base = { area: area, zone: 0, page_size: 5000 };
    var sinceYear = f.since ? f.since.slice(0, 4) + "-01-01" : "", untilYear = f.until ? f.until.slice(0, 4) + "-12-31" : "";
    /* The filter in words: all a printed page shows of it. */
    document.getElementById("period-label").textContent = [(f.since || "first record") + " to " + (f.until || "latest")]
      .concat(f.vertical ? [form.elements.vertical.selectedOptions[0].textContent] : [])
      .concat(f.category ? [form.elements.category.selectedOptions[0].textContent] : []).join(" · ");
    busy(2);
    /* The yearly values the cards and charts draw, and only those: an area has thousands
       of others (per category, taxon, leg-day...). */
    var year = Object.assign({ period_kind: "Y", start: sinceYear, end: untilYear }, base);
    var yearlyP = Promise.all([
      { indicator_prefix: "effort." }, { indicator: "count.records", subject: subject() },
      { indicator: "cpue.records.km", subject: subject() }, { indicator: "bio.richness" }, { indicator: "bio.chao1" },
      { indicator: "mett.percent" }, { indicator_prefix: "finance." }
    ].map(function (which) { return FK.getAll("/api/v1/indicators/?" + FK.query(Object.assign(which, year))); }))
      .then(function (parts) { return [].concat.apply([], parts); });
    var month = Object.assign({ period_kind: "M", start: range.since, end: range.until }, base);
    var monthlyP = Promise.all([
      FK.getAll("/api/v1/indicators/?" + FK.query(Object.assign({ indicator: "effort.km" }, month))),
      FK.getAll("/api/v1/indicators/?" + FK.query(Object.assign({ indicator: "cpue.records.km", subject: subject() }, month)))
    ]).then(function (parts) { return parts[0].concat(parts[1]); });
    Promise.all([yearlyP, monthlyP]).then(function (both) {
      var yearly = both[0], monthly = both[1];
      drawCards(yearly);
      if (document.getElementById("chart-effort")) { drawCharts(monthly, yearly); }
      var y = years(yearly);
      loadCells(y[y.length - 1]);
      var effort = series(yearly, "effort.km");
      document.getElementById("limits").textContent = effort.length
        ? "Rates are per 10 km of patrol track clipped to the area; periods without effort have no rate (no data, not zero). Intervals are exact Poisson (Garwood) 95 %."
        : "No patrol effort recorded in this period: encounter rates cannot be computed.";
      window.figuresLoaded = (window.figuresLoaded || 0) + 1;
    }).catch(function (e) { document.getElementById("limits").textContent = "Figures could not be loaded: " + e.message; })
      .finally(function () { busy(-2); });
  }

  form.addEventListener("change", function () {
    FIELDS.forEach(function (n) { if (form.elements[n].value) { url.searchParams.set(n, form.elements[n].value); } else { url.searchParams.delete(n); } });
    history.replaceState(null, "", url.toString());
    reloadLayers();
    if (document.getElementById("cards")) { reloadFigures(); }
  });
  document.getElementById("print").addEventListener("click", function () { window.print(); });
  /* Charts and the map are sized for the screen: before printing the map takes the paper's
     width (body.printing, maps.css) and the area is fitted to it; after, the screen's. */
  function refit() {
    map.invalidateSize({ animate: false, pan: false });
    if (window.dashboard.bounds) { map.fitBounds(window.dashboard.bounds, { animate: false }); }
  }
  window.addEventListener("beforeprint", function () {
    document.body.classList.add("printing");
    refit();
    Object.keys(charts).forEach(function (id) { charts[id].resize(); });
  });
  window.addEventListener("afterprint", function () {
    document.body.classList.remove("printing");
    refit();
  });
  reloadFigures();
})();
