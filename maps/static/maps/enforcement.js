/* The law-enforcement map: illicit-activity records of the user's areas, clustered, and
   the grid cells with most of them. */
(function () {
  "use strict";
  var map = FK.map("map");
  FK.areaOutlines(map);
  var form = document.getElementById("filters");
  var url = new URL(window.location.href);
  ["since", "until", "category"].forEach(function (n) { if (url.searchParams.get(n)) { form.elements[n].value = url.searchParams.get(n); } });
  var records = L.layerGroup().addTo(map);
  var spots = JSON.parse(document.getElementById("hotspots-data").textContent);
  /* Hotspots above the clusters (which would hide them), as amber rings. */
  map.createPane("hotspots");
  map.getPane("hotspots").style.zIndex = 650;
  var hot = L.layerGroup(spots.map(function (s) {
    return L.circleMarker([s.lat, s.lon], { pane: "hotspots", radius: 10 + Math.sqrt(s.records) * 2, color: "#ff8f00", weight: 3, dashArray: "5 3", fill: false })
      .bindTooltip(s.area + ": " + s.records + " records in " + s.year);
  })).addTo(map);
  /* A hotspot of the list: the map goes there. */
  document.querySelectorAll("#hotspots li[data-lon]").forEach(function (li) {
    li.addEventListener("click", function () { map.setView([+li.dataset.lat, +li.dataset.lon], 13); });
  });
  L.control.layers(null, { "Illicit-activity records": records, "Hotspots (grid cells)": hot }, { collapsed: false }).addTo(map);
  if (spots.length) { map.fitBounds(L.latLngBounds(spots.map(function (s) { return [s.lat, s.lon]; })).pad(0.5)); }
  function load() {
    var q = FK.query(Object.assign({
      vertical: "illicit", category: form.elements.category.value,
      since: FK.firstDay(form.elements.since.value), until: FK.lastDay(form.elements.until.value)
    }, FK.view(map)));
    FK.getJSON("/maps/data/observations.geojson?" + q).then(function (data) {
      records.clearLayers();
      records.addLayer(FK.observationLayer(data));
      window.illicitFeatures = data.features;
    });
  }
  form.addEventListener("change", function () {
    ["since", "until", "category"].forEach(function (n) { if (form.elements[n].value) { url.searchParams.set(n, form.elements[n].value); } else { url.searchParams.delete(n); } });
    history.replaceState(null, "", url.toString());
    load();
  });
  map.on("moveend", load);
  load();
})();
