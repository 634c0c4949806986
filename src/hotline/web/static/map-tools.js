/* Tools for the situation map: framing the area of current activity (or one message's
 * volumes for ?focus=), label declutter, a geodesic distance/bearing measure and full
 * screen. The measure works from the keyboard too (arrows move the map, Enter marks its
 * centre). Geodesy is GeographicLib's (vendored npm `geographiclib-geodesic`, WGS-84
 * ellipsoid), never a hand-rolled sphere.
 */
(function () {
  "use strict";

  /* Bounds of one GeoJSON feature without a map: circles are Points with radius_m. */
  function boundsOf(f) {
    var g = f.geometry;
    if (!g) { return null; }
    if (g.type === "Point") {
      var centre = L.latLng(g.coordinates[1], g.coordinates[0]);
      return centre.toBounds(2 * (f.properties.radius_m || 1000));
    }
    var b = L.geoJSON(f).getBounds();
    return b.isValid() ? b : null;
  }

  function union(list) {
    var out = null;
    list.forEach(function (b) {
      if (!b) { return; }
      out = out ? out.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    });
    return out;
  }

  function inForce(f, now) {
    var p = f.properties;
    return !p.start || (Date.parse(p.start) <= now && now < Date.parse(p.end));
  }

  /* What to frame: the message's volumes when `focus` names one, else everything in force
   * (volumes, protected areas, tracks, volumes in open conflict), else the theatre
   * setting. Returns [mode, bounds] with mode "focus", "activity", "theatre" or "default". */
  function activityBounds(data, focus) {
    var volumes = data.volumes.features;
    if (focus) {
      var mine = volumes.filter(function (f) { return f.properties.message_id === focus; });
      var b = union(mine.map(boundsOf));
      if (b) { return ["focus", b]; }
    }
    var now = Date.parse(data.now) || Date.now();
    var inConflict = {};
    (data.conflicts || []).forEach(function (c) {
      inConflict[c.a.message_id + "/" + c.a.volume_id] = true;
      inConflict[c.b.message_id + "/" + c.b.volume_id] = true;
    });
    var parts = volumes.filter(function (f) { return inForce(f, now) || inConflict[f.properties.id]; })
      .map(boundsOf);
    ((data.areas || {}).features || []).forEach(function (f) { parts.push(boundsOf(f)); });
    ((data.picture || {}).tracks || []).forEach(function (t) {
      parts.push(L.latLng(t.lat, t.lon).toBounds(5000));
    });
    var all = union(parts);
    if (all) { return ["activity", all]; }
    if (data.theatre) { return ["theatre", L.latLngBounds(data.theatre)]; }
    return ["default", null];
  }

  function frame(map, element, data, focus) {
    var found = activityBounds(data, focus);
    if (found[1]) { map.fitBounds(found[1].pad(0.15), { maxZoom: 10, animate: false }); }
    element.setAttribute("data-framed", found[0]);
    return found[0];
  }

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  /* Greedy declutter: labels in priority order (data-priority, higher first) are kept
   * unless they overlap a kept label or a track symbol; the rest are hidden. */
  function declutter(element, current) {
    var kept = Array.prototype.map.call(element.querySelectorAll(".leaflet-marker-icon"),
      function (m) { return m.getBoundingClientRect(); });
    /* `current`: the labels of the layer now drawn (a replaced layer's may linger a frame) */
    var labels = current || Array.prototype.slice.call(element.querySelectorAll(".leaflet-tooltip.map-label"));
    labels.sort(function (a, b) { return (+b.dataset.priority || 0) - (+a.dataset.priority || 0); });
    var hidden = 0;
    labels.forEach(function (label) {
      label.classList.remove("label-hidden");
      var box = label.getBoundingClientRect();
      var clash = kept.some(function (k) { return overlaps(box, k); });
      label.classList.toggle("label-hidden", clash);
      if (clash) { hidden += 1; } else { kept.push(box); }
    });
    element.setAttribute("data-labels-hidden", String(hidden));
  }

  /* Distance and initial bearing between two clicked points on the WGS-84 ellipsoid, the
   * geodesic drawn through intermediate points. */
  function measure(map, button, output, words) {
    var on = false, points = [], layer = L.layerGroup().addTo(map);
    var WGS84 = window.geodesic && geodesic.Geodesic.WGS84;
    function reset() { points = []; layer.clearLayers(); }
    function show(a, b) {
      var r = WGS84.Inverse(a.lat, a.lng, b.lat, b.lng);
      var line = WGS84.InverseLine(a.lat, a.lng, b.lat, b.lng);
      var path = [];
      for (var i = 0; i <= 64; i++) {
        var p = line.Position(line.s13 * i / 64);
        path.push([p.lat2, p.lon2]);
      }
      L.polyline(path, { color: "#ffffff", weight: 2, dashArray: "6 4", interactive: false }).addTo(layer);
      var bearing = (r.azi1 + 360) % 360;
      output.dataset.points = [a.lat, a.lng, b.lat, b.lng].join(",");
      output.dataset.metres = String(r.s12);
      output.dataset.bearing = String(bearing);
      output.textContent = words.measureResult.replace("{d}", (r.s12 / 1000).toFixed(2))
        .replace("{b}", bearing.toFixed(1));
    }
    function add(latlng) {
      if (points.length === 2) { reset(); }
      points.push(latlng);
      L.circleMarker(latlng, { radius: 4, color: "#ffffff", interactive: false }).addTo(layer);
      if (points.length === 2) { show(points[0], points[1]); }
      else { output.textContent = words.measureSecond || ""; }
    }
    map.on("click", function (e) { if (on) { add(e.latlng); } });
    /* From the keyboard: the arrow keys move the map (Leaflet's own), Enter or Space marks
     * the point under the crosshair drawn at the map's centre while measuring. */
    map.getContainer().addEventListener("keydown", function (e) {
      if (!on || (e.key !== "Enter" && e.key !== " ")) { return; }
      e.preventDefault();
      add(map.getCenter());
    });
    button.addEventListener("click", function () {
      on = !on;
      button.setAttribute("aria-pressed", String(on));
      map.getContainer().classList.toggle("measuring", on);
      reset();
      output.textContent = on ? words.measureHint : "";
    });
    return { between: function (a, b) { reset(); points = [a, b]; show(L.latLng(a), L.latLng(b)); } };
  }

  /* Full screen inside the page (CSS), so it works the same in a kiosk browser; Escape leaves. */
  function fullscreen(map, button, section, words) {
    function set(on) {
      section.classList.toggle("map-fullscreen", on);
      document.body.classList.toggle("map-is-fullscreen", on);
      button.setAttribute("aria-pressed", String(on));
      button.textContent = on ? words.exitFullscreen : words.fullscreen;
      map.invalidateSize();
    }
    button.addEventListener("click", function () { set(!section.classList.contains("map-fullscreen")); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && section.classList.contains("map-fullscreen")) { set(false); }
    });
  }

  window.HotlineMapTools = {
    frame: frame, declutter: declutter, measure: measure, fullscreen: fullscreen, boundsOf: boundsOf
  };
})();
