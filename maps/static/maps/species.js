/* A species page: its records on the map (generalised where the user may not see them
   exactly) and its encounter rate per area over the years. */
(function () {
  "use strict";
  var taxon = FK.options.taxon;
  var map = FK.map("map");
  FK.areaOutlines(map);
  var layer = L.layerGroup().addTo(map);
  var fitted = false;
  function load() {
    FK.getJSON("/maps/data/observations.geojson?" + FK.query(Object.assign({ taxon: taxon }, FK.view(map)))).then(function (data) {
      layer.clearLayers();
      var drawn = FK.observationLayer(data);
      layer.addLayer(drawn);
      window.speciesFeatures = data.features;
      /* Once: the view where the species is recorded (the next answer comes for that view). */
      if (!fitted && data.features.length) {
        fitted = true;
        map.fitBounds(drawn.getBounds().pad(0.3), { maxZoom: 11 });
      }
    });
  }
  map.on("moveend", load);
  load();
  FK.getAll("/api/v1/indicators/?" + FK.query({ indicator: "cpue.records.km", subject: "taxon:" + taxon, period_kind: "Y", zone: 0, page_size: 5000 }))
    .then(function (rows) {
      var years = Object.keys(rows.reduce(function (o, r) { o[r.period_start.slice(0, 4)] = 1; return o; }, {})).sort();
      var areas = Object.keys(rows.reduce(function (o, r) { o[r.area] = 1; return o; }, {}));
      var palette = ["#2e7d32", "#1565c0", "#c62828", "#ef6c00", "#6a1b9a", "#00838f"];
      new Chart(document.getElementById("chart-species-rate"), {
        type: "barWithErrorBars",
        data: { labels: years, datasets: areas.map(function (area, i) {
          return { label: (FK.options.areas || {})[area] || "area " + area, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length],
            data: years.map(function (y) { var r = rows.filter(function (x) { return String(x.area) === area && x.period_start.slice(0, 4) === y; })[0]; return r ? { y: r.value, yMin: r.lower, yMax: r.upper } : { y: null }; }) };
        }) },
        options: { animation: false }
      });
      window.speciesRates = rows.length;
    });
})();
