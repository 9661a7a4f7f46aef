/* The overview map: every protected area coloured by one indicator for one year. */
(function () {
  "use strict";
  var map = FK.map("map");
  var form = document.getElementById("choice");
  var legend = document.getElementById("legend");
  var details = document.getElementById("details");
  var layer = null;
  var url = new URL(window.location.href);
  ["indicator", "year"].forEach(function (name) {
    if (url.searchParams.get(name)) { form.elements[name].value = url.searchParams.get(name); }
  });

  function styleOf(breaks) {
    return function (f) {
      var p = f.properties;
      if (!p.shared || p.value === null) {
        /* No data: grey outline, hatched look, never a colour of the scale. */
        return { color: "#616161", weight: 1, dashArray: "4 3", fillColor: "#9e9e9e", fillOpacity: 0.15 };
      }
      return { color: "#33691e", weight: 1, fillColor: FK.ramp[FK.classOf(p.value, breaks)], fillOpacity: 0.8 };
    };
  }

  function drawLegend(breaks, label) {
    var html = "<strong>" + label + "</strong>";
    var lower = null;
    FK.ramp.forEach(function (colour, i) {
      if (i > breaks.length) { return; }
      var upper = i < breaks.length ? breaks[i] : null;
      var text = lower === null ? "≤ " + FK.fmt(upper) : upper === null ? "> " + FK.fmt(lower) : FK.fmt(lower) + " – " + FK.fmt(upper);
      if (!breaks.length) { text = "any value"; }
      html += '<div class="row"><span class="swatch" style="background:' + colour + '"></span>' + text + "</div>";
      lower = upper;
    });
    html += '<div class="row"><span class="swatch nodata"></span>no data (not the same as 0)</div>';
    legend.innerHTML = html;
  }

  /* Context (provinces): under the areas, in a pane of its own, switched in the control. */
  map.createPane("context");
  map.getPane("context").style.zIndex = 350;
  var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
  window.overviewControl = control;
  (FK.options.context_layers || []).forEach(function (layer) {
    FK.getJSON(map.getContainer().dataset.context + "?layer=" + encodeURIComponent(layer)).then(function (data) {
      var outlines = L.geoJSON(data, {
        pane: "context",
        style: { color: "#6d4c41", weight: 1, dashArray: "6 3", fillColor: "#d7ccc8", fillOpacity: 0.15 },
        onEachFeature: function (f, l) { l.bindTooltip(f.properties.name, { sticky: true }); }
      });
      var label = layer.charAt(0).toUpperCase() + layer.slice(1);
      control.addOverlay(outlines, label);
      outlines.addTo(map);
      if (layer === "provinces") { window.contextLayer = outlines; }
      if (data.source) { map.attributionControl.addAttribution(label + ": " + data.source); }
    });
  });

  function showDetails(feature) {
    var p = feature.properties, year = form.elements.year.value;
    details.innerHTML = "<h2>" + p.name + "</h2><p>" + FK.fmt(p.area_km2, 0) + " km²</p>";
    if (FK.options.public) { details.innerHTML += "<p>" + form.elements.indicator.selectedOptions[0].textContent + ", " + year + ": " + FK.fmt(p.value) + "</p>"; return; }
    if (!p.shared) { details.innerHTML += "<p>Figures of this area are not shared with you.</p>"; return; }
    /* The year's key figures, each asked for alone: an area has thousands of other values. */
    var keep = [
      ["effort.km", "", "Patrol km"], ["effort.person_days", "", "Person-days"],
      ["count.records", "vertical:illicit", "Illicit-activity records"],
      ["cpue.records.km", "vertical:illicit", "Illicit activity per 10 km"],
      ["cpue.records.km", "vertical:biodiversity", "Wildlife records per 10 km"],
      ["bio.richness", "", "Species recorded"], ["mett.percent", "", "METT score (%)"]
    ];
    Promise.all(keep.map(function (k) {
      return FK.getAll("/api/v1/indicators/?" + FK.query({ area: feature.id, zone: 0, period_kind: "Y", start: year + "-01-01", end: year + "-12-31", indicator: k[0], subject: k[1] }));
    }))
      .then(function (found) {
        var table = "<table>";
        keep.forEach(function (k, i) {
          var row = found[i].filter(function (r) { return r.subject === k[1]; })[0];
          table += '<tr data-indicator="' + k[0] + '"><td>' + k[2] + "</td><td>" + FK.fmt(row ? row.value : null) + "</td></tr>";
        });
        details.innerHTML += table + '</table><p><a href="/maps/areas/' + feature.id + '/?since=' + year + "-01&until=" + year + '-12">Open the dashboard</a></p>';
      });
  }

  function load() {
    var indicator = form.elements.indicator.value, year = form.elements.year.value;
    url.searchParams.set("indicator", indicator);
    if (year) { url.searchParams.set("year", year); }
    history.replaceState(null, "", url.toString());
    if (!year) { legend.textContent = "No indicators have been computed yet."; }
    FK.getJSON(map.getContainer().dataset.areas + "?" + FK.query({ indicator: indicator, year: year || new Date().getFullYear() }))
      .then(function (data) {
        var breaks = FK.breaks(data.features.filter(function (f) { return f.properties.shared; }).map(function (f) { return f.properties.value; }));
        if (layer) { map.removeLayer(layer); control.removeLayer(layer); }
        layer = L.geoJSON(data, {
          style: styleOf(breaks),
          onEachFeature: function (f, l) {
            l.bindTooltip(f.properties.name + ": " + (f.properties.shared ? FK.fmt(f.properties.value) : "not shared"));
            l.on("click", function () { showDetails(f); });
          }
        }).addTo(map);
        control.addOverlay(layer, "Protected areas");
        window.overviewLayer = layer;
        if (data.features.length && !map._fitted) { map.fitBounds(layer.getBounds()); map._fitted = true; }
        drawLegend(breaks, form.elements.indicator.selectedOptions[0].textContent + ", " + (year || ""));
        document.body.dataset.loaded = "areas";
      });
  }
  form.addEventListener("change", load);
  load();
})();
