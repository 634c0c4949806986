/* Hotline maps: Natural Earth countries (world-atlas TopoJSON) drawn with Leaflet, no
 * tiles, everything served by the node; and the volumes layer shared by the situation
 * map and the compose map.
 *
 * Volumes arrive as GeoJSON from /console/map/data: circles as a Point with
 * properties.radius_m, corridors already as their outline polygon, coordinates [lon, lat].
 */
(function () {
  "use strict";

  var COLOURS = {
    own: "#4da3ff",
    peer: "#f2a93b",
    area: "#c792ea",
    conflict: "#ff4d4f",
    draft: "#5ad19a",
    reference: "#8796a8"
  };
  var COUNTRIES = "/console/static/vendor/world-atlas/countries-50m.json";

  function graticule() {
    var lines = [];
    for (var lon = -180; lon <= 180; lon += 10) { lines.push([[-85, lon], [85, lon]]); }
    for (var lat = -80; lat <= 80; lat += 10) { lines.push([[lat, -180], [lat, 180]]); }
    return L.polyline(lines, { color: "#1d2a38", weight: 1, interactive: false, pane: "grid" });
  }

  function create(element, options) {
    var map = L.map(element, Object.assign({
      worldCopyJump: true,
      zoomSnap: 0.5,
      minZoom: 2,
      maxZoom: 13,
      attributionControl: true,
      preferCanvas: false
    }, options || {}));
    map.createPane("grid").style.zIndex = 380;
    map.createPane("land").style.zIndex = 390;
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Natural Earth");
    L.control.scale({ metric: true, imperial: true }).addTo(map);
    graticule().addTo(map);
    map.setView([50, 25], 4);
    hatches();
    fetch(COUNTRIES, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (topo) {
        var land = topojson.feature(topo, topo.objects.countries);
        var layer = L.geoJSON(land, {
          interactive: false,
          pane: "land",
          style: { color: "#4a5b6e", weight: 0.7, fillColor: "#1c2631", fillOpacity: 1 }
        }).addTo(map);
        element.setAttribute("data-countries", String(land.features.length));
      });
    return map;
  }

  function colourOf(props, role) {
    if (role === "draft") { return COLOURS.draft; }
    if (role === "reference") { return COLOURS.reference; }
    if (props.protected) { return props.own ? COLOURS.own : COLOURS.peer; }
    if (props.area) { return COLOURS.area; }
    return props.own ? COLOURS.own : COLOURS.peer;
  }

  /* A conflict keeps its side's colour (ours/theirs must stay readable at a glance) and is
   * marked by a heavy dashed outline and a hatched fill (patterns from hatches()). */
  function styleOf(props, role, conflicted) {
    var colour = colourOf(props, role);
    var side = props.own ? "own" : "peer";
    return {
      color: colour,
      weight: conflicted ? 4 : 2,
      dashArray: props.protected ? "2 5" : (props.area ? "6 4" : (conflicted ? "10 5" : null)),
      fillColor: colour,
      fillOpacity: conflicted ? 0.7 : (props.protected ? 0.06 : (role === "reference" ? 0.08 : 0.18)),
      className: conflicted ? "conflicted conflicted-" + side : ""
    };
  }

  /* Hatch patterns the conflicted volumes' fill points at (CSS `fill: url(#hatch-own)`),
   * drawn once per page in a hidden SVG. */
  function hatches() {
    if (document.getElementById("hatch-own")) { return; }
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("width", "0");
    svg.setAttribute("height", "0");
    svg.style.position = "absolute";
    var defs = document.createElementNS(ns, "defs");
    [["hatch-own", COLOURS.own], ["hatch-peer", COLOURS.peer]].forEach(function (h) {
      var pattern = document.createElementNS(ns, "pattern");
      pattern.setAttribute("id", h[0]);
      pattern.setAttribute("patternUnits", "userSpaceOnUse");
      pattern.setAttribute("width", "8");
      pattern.setAttribute("height", "8");
      pattern.setAttribute("patternTransform", "rotate(45)");
      var line = document.createElementNS(ns, "line");
      line.setAttribute("x1", "0"); line.setAttribute("y1", "0");
      line.setAttribute("x2", "0"); line.setAttribute("y2", "8");
      line.setAttribute("stroke", h[1]); line.setAttribute("stroke-width", "3");
      pattern.appendChild(line);
      defs.appendChild(pattern);
    });
    svg.appendChild(defs);
    document.body.appendChild(svg);
  }

  /* A Leaflet layer for a FeatureCollection of volumes. `role`: "volume", "draft" or
   * "reference"; `conflicted(id)` says whether a volume is in conflict. */
  function volumes(collection, role, conflicted, onClick) {
    var isConflicted = conflicted || function () { return false; };
    return L.geoJSON(collection, {
      style: function (f) { return styleOf(f.properties, role, isConflicted(f.properties.id)); },
      pointToLayer: function (f, latlng) {
        return L.circle(latlng, Object.assign({ radius: f.properties.radius_m || 1000 },
          styleOf(f.properties, role, isConflicted(f.properties.id))));
      },
      onEachFeature: function (f, layer) {
        layer.feature = f;
        if (onClick) { layer.on("click", function () { onClick(f, layer); }); }
      }
    });
  }

  function fit(map, layer) {
    var bounds = layer.getBounds && layer.getBounds();
    if (bounds && bounds.isValid()) { map.fitBounds(bounds.pad(1.2), { maxZoom: 6 }); }
  }

  function data() {
    return fetch("/console/map/data", { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }

  window.HotlineMap = { create: create, volumes: volumes, fit: fit, data: data, styleOf: styleOf, COLOURS: COLOURS };
})();
