/* The situation map: declared volumes of both sides with a time slider, the node's
 * protected areas in force, conflicts highlighted and listed, details on click, and the
 * live track picture drawn with MIL-STD-2525 symbols (milsymbol), with predicted conflicts
 * and incursions. Reloads its data when the node reports a change, and every 5 s.
 */
(function () {
  "use strict";

  var element = document.getElementById("situation-map");
  if (!element || !window.L) { return; }
  var words = document.getElementById("map-words").dataset;
  var map = HotlineMap.create(element);
  element.hotlineMap = map;  /* for the browser tests and the console's other scripts */
  var slider = document.getElementById("time-slider");
  var output = document.getElementById("time-value");
  var allTimes = document.getElementById("time-all");
  var selected = document.getElementById("selected");
  var list = document.getElementById("conflict-list");
  var layer = null, data = null, range = null, fitted = false;
  var focus = new URLSearchParams(window.location.search).get("focus");
  var toggles = {};
  Array.prototype.forEach.call(document.querySelectorAll("[data-layer]"), function (box) {
    toggles[box.dataset.layer] = box;
    box.addEventListener("change", function () { draw(); if (data) { drawTracks(); } });
  });
  var altMin = document.getElementById("alt-min"), altMax = document.getElementById("alt-max");
  [altMin, altMax].forEach(function (input) { input.addEventListener("input", function () { draw(); }); });
  var tools = HotlineMapTools;
  tools.measure(map, document.getElementById("map-measure"), document.getElementById("measure-result"), words);
  tools.fullscreen(map, document.getElementById("map-fullscreen"), document.getElementById("map-main"), words);
  document.getElementById("map-reframe").addEventListener("click", function () {
    if (data) { tools.frame(map, element, data, null); }
  });
  /* after Leaflet has moved the labels (its own zoomend handlers run after this one) */
  map.on("zoomend moveend", function () {
    window.requestAnimationFrame(function () { tools.declutter(element, labels()); });
  });

  function conflictIds() {
    var ids = {};
    (data.conflicts || []).forEach(function (c) {
      ids[c.a.message_id + "/" + c.a.volume_id] = true;
      ids[c.b.message_id + "/" + c.b.volume_id] = true;
    });
    return ids;
  }

  function utc(ms) { return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + "Z"; }

  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) { el.className = cls; }
    return el;
  }

  /* A <dl class="facts compact"> of [label, value] rows. */
  function facts(rows) {
    var dl = document.createElement("dl");
    dl.className = "facts compact";
    rows.forEach(function (row) {
      var div = document.createElement("div");
      div.appendChild(text("dt", row[0]));
      div.appendChild(text("dd", row[1]));
      dl.appendChild(div);
    });
    return dl;
  }

  /* One line of a side list: a red button (title, detail lines) that frames it on click. */
  function listItem(list, title, details, onClick) {
    var item = document.createElement("li");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "conflict-item conflict";
    button.title = words.show;
    button.appendChild(text("strong", title));
    details.forEach(function (d) { button.appendChild(text("span", d)); });
    button.addEventListener("click", onClick);
    item.appendChild(button);
    list.appendChild(item);
  }

  function describe(f) {
    var p = f.properties;
    selected.textContent = "";
    selected.classList.remove("muted");
    var title = p.protected ? words.protectedArea + " " + p.area_id + " \u2014 " + p.name
      : (p.area ? words.area + " " + p.area : words.volume + " " + p.volume_id);
    selected.appendChild(text("strong", title));
    selected.appendChild(facts([
      [words.party, (p.party || "").toUpperCase()],
      [words.time, p.start ? utc(Date.parse(p.start)) + " – " + utc(Date.parse(p.end)) : "—"],
      [words.altitude, p.alt_lower_m !== undefined ? p.alt_lower_m + "–" + p.alt_upper_m + " m " + p.datum : "—"]
    ]));
    var link = text("a", words.message);
    link.href = "/console/messages/" + p.message_id;
    selected.appendChild(link);
  }

  function visibleAt(f, t) {
    var p = f.properties;
    if (allTimes.checked || !p.start) { return true; }
    return Date.parse(p.start) <= t && t < Date.parse(p.end);
  }

  function on(name) { return !toggles[name] || toggles[name].checked; }

  /* Layer toggles and the altitude filter: a volume shows when its layer is on and its
   * altitude band meets the filter's band (an empty bound is open). */
  function wanted(f) {
    var p = f.properties;
    var kind = p.protected ? "protected" : (p.area ? "area" : (p.own ? "own" : "peer"));
    if (!on(kind)) { return false; }
    var low = altMin.value === "" ? -Infinity : +altMin.value;
    var high = altMax.value === "" ? Infinity : +altMax.value;
    if (p.alt_lower_m === undefined) { return true; }
    return p.alt_lower_m <= high && p.alt_upper_m >= low;
  }

  function labelOf(p) {
    if (p.protected) { return p.area_id; }
    return (p.party || "").toUpperCase() + " " + (p.area ? words.area : p.volume_id);
  }

  function labels() {
    var found = [];
    if (layer) {
      layer.eachLayer(function (l) {
        var tip = l.getTooltip && l.getTooltip();
        if (tip && tip.getElement() && tip.getElement().isConnected) { found.push(tip.getElement()); }
      });
    }
    return found;
  }

  /* Permanent labels; declutter() hides those that would overlap (conflicts win, then ours). */
  function label(ids) {
    if (!on("labels")) { return; }
    layer.eachLayer(function (l) {
      var p = l.feature.properties;
      var priority = ids[p.id] ? 3 : (p.own ? 2 : 1);
      l.bindTooltip(labelOf(p), { permanent: true, direction: "center", className: "map-label", opacity: 1 });
      var tip = l.getTooltip();
      l.on("tooltipopen", function () { tip.getElement().dataset.priority = String(priority); });
      if (tip.getElement()) { tip.getElement().dataset.priority = String(priority); }
    });
  }

  function draw() {
    if (!data) { return; }
    if (layer) { map.removeLayer(layer); }
    var t = range ? range[0] + (range[1] - range[0]) * slider.value / 1000 : 0;
    output.textContent = allTimes.checked || !range ? "—" : utc(t);
    var ids = conflictIds();
    var areas = (data.areas || { features: [] }).features;
    var inTime = data.volumes.features.filter(function (f) { return visibleAt(f, t); });
    var shown = { type: "FeatureCollection", features: areas.concat(inTime).filter(wanted) };
    layer = HotlineMap.volumes(shown, "volume", function (id) { return !!ids[id]; }, describe).addTo(map);
    label(ids);
    element.setAttribute("data-volumes", String(shown.features.length));
    if (!fitted) { tools.frame(map, element, data, focus); fitted = true; }
    window.requestAnimationFrame(function () { tools.declutter(element, labels()); });
  }

  function layersOf(ids) {
    var found = [];
    if (layer) { layer.eachLayer(function (l) { if (ids[l.feature.properties.id]) { found.push(l); } }); }
    return found;
  }

  function listConflicts() {
    list.textContent = "";
    var conflicts = data.conflicts || [];
    if (!conflicts.length) { list.appendChild(text("li", list.getAttribute("data-none"), "muted")); }
    conflicts.forEach(function (c) {
      listItem(list, c.a.party.toUpperCase() + " " + c.a.volume_id + " \u2194 " +
        c.b.party.toUpperCase() + " " + c.b.volume_id, [
        utc(Date.parse(c.start)) + " \u2013 " + utc(Date.parse(c.end)),
        Math.round(c.horizontal_m) + " m \u00b7 " + Math.round(c.vertical_m) + " m"
      ], function () {
        var ids = {};
        ids[c.a.message_id + "/" + c.a.volume_id] = true;
        ids[c.b.message_id + "/" + c.b.volume_id] = true;
        var found = layersOf(ids);
        if (found.length) { map.fitBounds(L.featureGroup(found).getBounds().pad(0.5)); }
      });
    });
  }

  function timeRange() {
    var starts = [], ends = [];
    data.volumes.features.forEach(function (f) {
      if (f.properties.start) { starts.push(Date.parse(f.properties.start)); ends.push(Date.parse(f.properties.end)); }
    });
    return starts.length ? [Math.min.apply(null, starts), Math.max.apply(null, ends)] : null;
  }

  function load() {
    HotlineMap.data().then(function (d) {
      data = d;
      range = timeRange();
      serverNow = Date.parse(d.now) || Date.now();
      loadedAt = Date.now();
      slider.disabled = !range;
      placeNow();
      draw();
      listConflicts();
      drawTracks();
    });
  }

  /* "now" on the slider: a mark where the present falls in the volumes' time range (the
   * node's clock, carried forward by the browser's), and a button to go there. */
  var nowMark = document.getElementById("time-now"), toNow = document.getElementById("time-to-now");
  var serverNow = 0, loadedAt = 0;
  function nowFraction() {
    if (!range || range[1] <= range[0]) { return NaN; }
    return (serverNow + (Date.now() - loadedAt) - range[0]) / (range[1] - range[0]);
  }
  function placeNow() {
    var f = nowFraction(), inside = f >= 0 && f <= 1;
    nowMark.hidden = !inside;
    toNow.disabled = !inside;
    if (inside) {  /* the thumb (16 px) travels 16 px less than the track is wide */
      nowMark.style.left = "calc(" + (f * 100).toFixed(3) + "% + " + (8 - 16 * f).toFixed(2) + "px)";
      nowMark.dataset.fraction = f.toFixed(4);
    }
  }
  toNow.addEventListener("click", function () {
    var f = nowFraction();
    if (!(f >= 0 && f <= 1)) { return; }
    slider.value = String(Math.round(f * 1000));
    allTimes.checked = false;
    draw();
  });
  window.setInterval(placeNow, 10000);

  slider.addEventListener("input", function () { allTimes.checked = false; draw(); });
  allTimes.addEventListener("change", draw);
  load();

  /* The live picture: tracks drawn with MIL-STD-2525 symbols (milsymbol), the SIDC the
   * node gives each track (hotline.domain.symbology: our party's as friend, the other
   * side's as neutral, the same code the CoT output's type is made from), each with its
   * predicted path to the look-ahead; tracks in a predicted conflict or incursion in red,
   * entry points marked. */
  var tracksLayer = null;
  var trackList = document.getElementById("track-list");

  function trackIcon(t, alert) {
    var symbol = new ms.Symbol(t.sidc, {
      size: 22, direction: t.trk_deg, uniqueDesignation: t.callsign || t.id,
      additionalInformation: t.party.toUpperCase(), infoColor: alert ? "#ff8c8c" : "#e8eef4",
      outlineColor: alert ? "#ff4d4f" : undefined, outlineWidth: alert ? 4 : 0
    });
    var anchor = symbol.getAnchor(), size = symbol.getSize();
    return L.icon({ iconUrl: symbol.asCanvas().toDataURL(), iconSize: [size.width, size.height], iconAnchor: [anchor.x, anchor.y] });
  }

  function describeTrack(t) {
    selected.textContent = "";
    selected.classList.remove("muted");
    selected.appendChild(text("strong", words.track + " " + t.id + (t.callsign ? " (" + t.callsign + ")" : "")));
    selected.appendChild(facts([
      [words.party, t.party.toUpperCase()],
      [words.position, t.lat.toFixed(4) + ", " + t.lon.toFixed(4)],
      [words.altitude, Math.round(t.alt_m) + " m"],
      [words.speed, Math.round(t.gs_mps) + " m/s \u00b7 " + Math.round(t.trk_deg) + "\u00b0"],
      [words.symbol, t.sidc + " \u00b7 " + t.cot_type]
    ]));
  }

  function drawTracks() {
    if (tracksLayer) { map.removeLayer(tracksLayer); tracksLayer = null; }
    var picture = data.picture || { tracks: [], conflicts: [], incursions: [] };
    var alert = {};
    picture.conflicts.forEach(function (c) { alert[c.a] = true; alert[c.b] = true; });
    picture.incursions.forEach(function (i) { alert[i.track] = true; });
    var layers = [];
    picture.tracks.forEach(function (t) {
      var red = !!alert[t.id];
      layers.push(L.polyline([[t.lat, t.lon], [t.ahead[1], t.ahead[0]]],
        { color: red ? "#ff4d4f" : (t.own ? "#4da3ff" : "#5ad19a"), weight: red ? 2.5 : 1.5, dashArray: "4 4", interactive: false }));
      if (window.ms) {
        var marker = L.marker([t.lat, t.lon], { icon: trackIcon(t, red), title: t.id, keyboard: false });
        marker.on("click", function () { describeTrack(t); });
        layers.push(marker);
      }
    });
    picture.incursions.forEach(function (i) {
      layers.push(L.circleMarker([i.lat, i.lon], { radius: 6, color: "#ff4d4f", weight: 3, fillOpacity: 0.4 })
        .bindTooltip(i.track + " \u2192 " + i.area_party.toUpperCase() + " " + i.area));
    });
    tracksLayer = L.layerGroup(layers);
    if (on("tracks")) { tracksLayer.addTo(map); }  /* the lists below keep every alert */
    element.setAttribute("data-tracks", String(picture.tracks.length));
    listPicture(picture);
  }

  function listPicture(picture) {
    trackList.textContent = "";
    var summary = text("li", words.trackCount.replace("{n}", picture.tracks.length), "muted");
    trackList.appendChild(summary);
    picture.incursions.forEach(function (i) {
      listItem(trackList,
        words.incursion + ": " + i.track + " \u2192 " + i.area_party.toUpperCase() + " " + i.area + " " + i.area_name,
        [i.inside ? words.insideNow : words.inSeconds.replace("{n}", Math.round(i.entry_s))],
        function () {
          var t = picture.tracks.filter(function (x) { return x.id === i.track; })[0];
          var points = t ? [[t.lat, t.lon], [i.lat, i.lon]] : [[i.lat, i.lon]];
          map.fitBounds(L.latLngBounds(points).pad(1.0), { maxZoom: 9 });
        });
    });
    picture.conflicts.forEach(function (c) {
      listItem(trackList, words.trackConflict + ": " + c.a + " \u2194 " + c.b,
        [words.cpa.replace("{t}", Math.round(c.tcpa_s)).replace("{d}", Math.round(c.dcpa_m))],
        function () {
          var found = picture.tracks.filter(function (t) { return t.id === c.a || t.id === c.b; });
          if (found.length) { map.fitBounds(L.latLngBounds(found.map(function (t) { return [t.lat, t.lon]; })).pad(1.5)); }
        });
    });
  }

  document.body.addEventListener("hotline:changed", load);
  /* Tracks move: refresh the picture every 5 s while the page is in view. */
  setInterval(function () { if (!document.hidden) { load(); } }, 5000);
})();
