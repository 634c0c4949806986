/* An incident case on the map: each side's stated positions (ours blue, theirs amber, as
 * on the situation map), a line joining the two positions of the same event with its
 * distance; the data is the case's JSON in #case-data, drawn over the node's countries. */
(function () {
  "use strict";

  function draw() {
    var element = document.getElementById("case-map");
    var data = JSON.parse(document.getElementById("case-data").textContent);
    var map = window.HotlineMap.create(element, {});
    var colours = [window.HotlineMap.COLOURS.own, window.HotlineMap.COLOURS.peer];
    var group = L.featureGroup().addTo(map);
    data.timeline.forEach(function (e) {
      var side = e.party === data.parties[0] ? 0 : 1;
      var latlng = [parseFloat(e.position[1]), parseFloat(e.position[0])];
      L.circleMarker(latlng, {
        radius: 7, color: colours[side], weight: 2, fillColor: colours[side], fillOpacity: 0.6
      }).bindTooltip(e.party.toUpperCase() + " " + (e.label || e.kind) + " " + e.time)
        .addTo(group);
    });
    data.both.forEach(function (row) {
      var a = row[data.parties[0]].position, b = row[data.parties[1]].position;
      L.polyline([[parseFloat(a[1]), parseFloat(a[0])], [parseFloat(b[1]), parseFloat(b[0])]], {
        color: "#ff4d4f", weight: 2, dashArray: "6 4"
      }).bindTooltip(row.distance_nm.toFixed(3) + " NM, " + (row.time_delta_s >= 0 ? "+" : "") +
        row.time_delta_s + " s", { permanent: true, className: "case-delta" }).addTo(group);
    });
    var bounds = group.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds.pad(0.6), { maxZoom: 12 }); }
    element.setAttribute("data-markers", String(data.timeline.length));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
