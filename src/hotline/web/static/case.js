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
    // An incident is small: every longitude is drawn within 180° of the first one, so a
    // case straddling the antimeridian is drawn the short way, not around the world.
    var reference = data.timeline.length ? parseFloat(data.timeline[0].position[0]) : 0;
    function near(lon, to) {
      while (lon - to > 180) { lon -= 360; }
      while (to - lon > 180) { lon += 360; }
      return lon;
    }
    function latlng(position, to) {
      return [parseFloat(position[1]), near(parseFloat(position[0]), to)];
    }
    function text(value) {  // a peer's free text (an event's label) is shown as text, never markup
      var span = document.createElement("span");
      span.textContent = value;
      return span;
    }
    data.timeline.forEach(function (e) {
      var side = e.party === data.parties[0] ? 0 : 1;
      L.circleMarker(latlng(e.position, reference), {
        radius: 7, color: colours[side], weight: 2, fillColor: colours[side], fillOpacity: 0.6
      }).bindTooltip(text(e.party.toUpperCase() + " " + (e.label || e.kind) + " " + e.time))
        .addTo(group);
    });
    data.both.forEach(function (row) {
      var a = latlng(row[data.parties[0]].position, reference);
      var b = latlng(row[data.parties[1]].position, a[1]);
      L.polyline([a, b], {
        color: "#ff4d4f", weight: 2, dashArray: "6 4"
      }).bindTooltip(text(row.distance_nm.toFixed(3) + " NM, " + (row.time_delta_s >= 0 ? "+" : "") +
        row.time_delta_s + " s"), { permanent: true, className: "case-delta" }).addTo(group);
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
