/* Compose: draw a volume on the map (polygon, circle, corridor) into a volume's fields.
 *
 * "Draw on map" on a volume arms the map with that volume's shape. Clicks add corners
 * (polygon), the centre then a point on the edge (circle), or points along the centre
 * line (corridor); "Finish shape" writes the positions into the volume's text box as
 * "lat, lon" lines, where they can still be edited by hand. Typed positions in any form
 * (decimal, DMS, MGRS) are drawn after "Check", as the node parsed them. Answering a
 * deconfliction request, the map opens framed on the request's volumes.
 */
(function () {
  "use strict";

  var element = document.getElementById("compose-map");
  if (!element || !window.L) { return; }
  var map = HotlineMap.create(element, { doubleClickZoom: false });
  element.hotlineMap = map;  /* for the browser tests */
  var hint = document.getElementById("draw-hint");
  var finishButton = document.getElementById("draw-finish");
  var cancelButton = document.getElementById("draw-cancel");
  var drawing = null;   // {n, shape, points: [LatLng], layer}
  var draftLayer = null;
  var drawn = [];       // finished shapes, shown until the node has parsed them (Check)

  HotlineMap.data().then(function (d) {
    var theirs = { type: "FeatureCollection", features: d.volumes.features.filter(function (f) { return !f.properties.own; }) };
    var layer = HotlineMap.volumes(theirs, "reference").addTo(map);
    if (!frameRequest()) { HotlineMap.fit(map, layer); }
  });

  /* Answering a request: its volumes drawn and framed (a circle by its radius). */
  function frameRequest() {
    var features;
    try { features = JSON.parse(element.getAttribute("data-frame") || "[]"); } catch (e) { features = []; }
    if (!features.length) { return false; }
    var request = HotlineMap.volumes({ type: "FeatureCollection", features: features }, "reference").addTo(map);
    var bounds = null;
    features.forEach(function (f) {
      var g = f.geometry, b;
      if (g && g.type === "Point") {
        b = L.latLng(+g.coordinates[1], +g.coordinates[0]).toBounds(2 * (+f.properties.radius_m || 1000));
      } else { b = L.geoJSON(f).getBounds(); }
      if (b && b.isValid()) { bounds = bounds ? bounds.extend(b) : b; }
    });
    if (!bounds) { return false; }
    map.fitBounds(bounds.pad(0.2), { maxZoom: 10, animate: false });
    element.setAttribute("data-framed", "request");
    return request;
  }

  function field(n, name) { return document.getElementById("vol-" + n + "-" + name); }

  function say(key) { hint.textContent = element.getAttribute("data-hint-" + key) || ""; }

  function round(x) { return Math.round(x * 100000) / 100000; }

  function redraw() {
    if (drawing.layer) { map.removeLayer(drawing.layer); drawing.layer = null; }
    var pts = drawing.points, style = HotlineMap.styleOf({ own: true }, "draft", false);
    if (!pts.length) { return; }
    if (drawing.shape === "circle") {
      drawing.layer = L.circle(pts[0], Object.assign({ radius: drawing.radius || 500 }, style));
    } else if (drawing.shape === "corridor") {
      drawing.layer = L.polyline(pts, Object.assign({}, style, { weight: 6, opacity: 0.7 }));
    } else {
      drawing.layer = pts.length > 2 ? L.polygon(pts, style) : L.polyline(pts, style);
    }
    drawing.layer.addTo(map);
  }

  function arm(n) {
    stop();
    var shape = field(n, "shape").value;
    drawing = { n: n, shape: shape, points: [], layer: null, radius: 0 };
    element.classList.add("drawing");
    finishButton.disabled = shape === "circle";
    cancelButton.disabled = false;
    say(shape);
    element.focus();
  }

  function stop() {
    if (drawing && drawing.layer) { map.removeLayer(drawing.layer); }
    drawing = null;
    element.classList.remove("drawing");
    finishButton.disabled = true;
    cancelButton.disabled = true;
  }

  function write() {
    var n = drawing.n, pts = drawing.points;
    field(n, "coords").value = pts.map(function (p) { return round(p.lat) + ", " + round(p.lng); }).join("\n");
    if (drawing.shape === "circle") { field(n, "size_m").value = String(Math.max(100, Math.round(drawing.radius / 100) * 100)); }
    if (drawing.shape === "corridor" && !field(n, "size_m").value) { field(n, "size_m").value = "10000"; }
    var keep = drawing.layer;
    drawing.layer = null;
    stop();
    if (keep) { keep.addTo(map); drawn.push(keep); }
    say("done");
    field(n, "coords").dispatchEvent(new Event("change", { bubbles: true }));
  }

  map.on("click", function (e) {
    if (!drawing) { return; }
    if (drawing.shape === "circle") {
      if (!drawing.points.length) { drawing.points.push(e.latlng); redraw(); return; }
      drawing.radius = map.distance(drawing.points[0], e.latlng);
      redraw();
      write();
      return;
    }
    drawing.points.push(e.latlng);
    redraw();
    var enough = drawing.shape === "polygon" ? 3 : 2;
    finishButton.disabled = drawing.points.length < enough;
  });

  finishButton.addEventListener("click", function () { if (drawing) { write(); } });
  cancelButton.addEventListener("click", function () { stop(); hint.textContent = ""; });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && drawing) { stop(); } });

  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-draw]");
    if (button) { arm(button.getAttribute("data-draw")); }
  });

  document.body.addEventListener("htmx:afterSettle", function () {
    var script = document.getElementById("draft-features");
    if (!script) { return; }
    if (draftLayer) { map.removeLayer(draftLayer); }
    drawn.forEach(function (l) { map.removeLayer(l); });
    drawn = [];
    draftLayer = HotlineMap.volumes(JSON.parse(script.textContent), "draft").addTo(map);
    HotlineMap.fit(map, draftLayer);
  });
})();
