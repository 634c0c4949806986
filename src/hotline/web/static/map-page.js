/* The situation map: declared volumes of both sides with a time slider, the node's
 * conflicts highlighted and listed, details on click, and an optional, clearly labelled
 * demo track layer drawn with MIL-STD-2525 symbols (milsymbol). Reloads its data when
 * the node reports a change.
 */
(function () {
  "use strict";

  var element = document.getElementById("situation-map");
  if (!element || !window.L) { return; }
  var words = document.getElementById("map-words").dataset;
  var map = HotlineMap.create(element);
  var slider = document.getElementById("time-slider");
  var output = document.getElementById("time-value");
  var allTimes = document.getElementById("time-all");
  var selected = document.getElementById("selected");
  var list = document.getElementById("conflict-list");
  var layer = null, data = null, range = null, fitted = false;

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

  function describe(f) {
    var p = f.properties;
    selected.textContent = "";
    selected.classList.remove("muted");
    selected.appendChild(text("strong", p.area ? words.area + " " + p.area : words.volume + " " + p.volume_id));
    var dl = document.createElement("dl");
    dl.className = "facts compact";
    [[words.party, (p.party || "").toUpperCase()],
     [words.time, p.start ? utc(Date.parse(p.start)) + " – " + utc(Date.parse(p.end)) : "—"],
     [words.altitude, p.alt_lower_m !== undefined ? p.alt_lower_m + "–" + p.alt_upper_m + " m " + p.datum : "—"]
    ].forEach(function (row) {
      var div = document.createElement("div");
      div.appendChild(text("dt", row[0]));
      div.appendChild(text("dd", row[1]));
      dl.appendChild(div);
    });
    selected.appendChild(dl);
    var link = text("a", words.message);
    link.href = "/console/messages/" + p.message_id;
    selected.appendChild(link);
  }

  function visibleAt(f, t) {
    var p = f.properties;
    if (allTimes.checked || !p.start) { return true; }
    return Date.parse(p.start) <= t && t < Date.parse(p.end);
  }

  function draw() {
    if (layer) { map.removeLayer(layer); }
    var t = range ? range[0] + (range[1] - range[0]) * slider.value / 1000 : 0;
    output.textContent = allTimes.checked || !range ? "—" : utc(t);
    var ids = conflictIds();
    var shown = { type: "FeatureCollection", features: data.volumes.features.filter(function (f) { return visibleAt(f, t); }) };
    layer = HotlineMap.volumes(shown, "volume", function (id) { return !!ids[id]; }, describe).addTo(map);
    element.setAttribute("data-volumes", String(shown.features.length));
    if (!fitted) { HotlineMap.fit(map, layer); fitted = true; }
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
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "conflict-item conflict";
      button.title = words.show;
      button.appendChild(text("strong", c.a.party.toUpperCase() + " " + c.a.volume_id + " \u2194 " +
        c.b.party.toUpperCase() + " " + c.b.volume_id));
      button.appendChild(text("span", utc(Date.parse(c.start)) + " \u2013 " + utc(Date.parse(c.end))));
      button.appendChild(text("span", Math.round(c.horizontal_m) + " m \u00b7 " + Math.round(c.vertical_m) + " m"));
      button.addEventListener("click", function () {
        var ids = {};
        ids[c.a.message_id + "/" + c.a.volume_id] = true;
        ids[c.b.message_id + "/" + c.b.volume_id] = true;
        var found = layersOf(ids);
        if (found.length) { map.fitBounds(L.featureGroup(found).getBounds().pad(0.5)); }
      });
      item.appendChild(button);
      list.appendChild(item);
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
      slider.disabled = !range;
      draw();
      listConflicts();
    });
  }

  slider.addEventListener("input", function () { allTimes.checked = false; draw(); });
  allTimes.addEventListener("change", draw);
  document.body.addEventListener("hotline:changed", load);
  load();

  /* Demo tracks: not data. Labelled DEMO on every symbol and off by default. */
  var demo = null;
  var DEMO_TRACKS = [
    { sidc: "SFAPMF----", at: [54.6, 19.2], course: 80, name: "DEMO 1" },
    { sidc: "SHAPMF----", at: [55.1, 20.4], course: 250, name: "DEMO 2" },
    { sidc: "SFSPCLDD--", at: [55.5, 18.9], course: 90, name: "DEMO 3" }
  ];
  document.getElementById("demo-tracks").addEventListener("change", function (e) {
    if (demo) { map.removeLayer(demo); demo = null; }
    if (!e.target.checked || !window.ms) { return; }
    demo = L.layerGroup(DEMO_TRACKS.map(function (t) {
      var symbol = new ms.Symbol(t.sidc, { size: 26, direction: t.course, uniqueDesignation: t.name, type: words.demo, infoColor: "#e8eef4" });
      var anchor = symbol.getAnchor(), size = symbol.getSize();
      var icon = L.icon({ iconUrl: symbol.asCanvas().toDataURL(), iconSize: [size.width, size.height], iconAnchor: [anchor.x, anchor.y] });
      return L.marker(t.at, { icon: icon, title: t.name, keyboard: false });
    })).addTo(map);
  });
})();
