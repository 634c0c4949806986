/* Hotline operator console: clock, deadline countdowns, live updates, form rows.
 *
 * Live updates: one EventSource on /console/events; each "changed" event is re-sent as
 * a "hotline:changed" DOM event on <body>, and every region that shows live state
 * reloads itself through htmx (hx-trigger="hotline:changed from:body"). A region being
 * edited (a field has focus or text) is left alone until the next change.
 *
 * Times are UTC. The page carries the server's time when it was drawn; countdowns use
 * the offset between that and the browser's clock, so a wrong desk clock does not
 * shorten or lengthen a deadline.
 */
(function () {
  "use strict";

  var body = document.body;
  var serverNow = Date.parse(body.getAttribute("data-server-now") || "");
  var offset = isNaN(serverNow) ? 0 : serverNow - Date.now();

  function now() { return Date.now() + offset; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function formatLeft(seconds) {
    var sign = seconds < 0 ? "\u2212" : "";  // always h:mm:ss, overdue with a minus sign
    var s = Math.abs(seconds);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return sign + h + ":" + pad(m) + ":" + pad(sec);
  }

  function tickCountdowns() {
    var words = { left: body.getAttribute("data-word-left"), overdue: body.getAttribute("data-word-overdue") };
    var crossed = false;
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-deadline")) - now()) / 1000);
      var value = el.querySelector(".cd-value");
      if (value) { value.textContent = formatLeft(left); }
      if (left < 0 && !el.classList.contains("overdue")) { crossed = true; }
      el.classList.toggle("overdue", left < 0);
      var soon = parseInt(el.getAttribute("data-soon"), 10) || 120;  // half the allowance
      el.classList.toggle("soon", left >= 0 && left < soon);
      var label = el.querySelector(".cd-label");
      if (label && words.left && words.overdue) { label.textContent = left < 0 ? words.overdue : words.left; }
    });
    // a deadline just passed: the queue re-sorts (overdue first) as if something changed
    if (crossed) { body.dispatchEvent(new Event("hotline:changed")); }
    var clock = document.getElementById("utc-clock");
    if (clock) {
      var d = new Date(now());
      clock.textContent = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + "Z";
    }
  }

  function flashTitle() {
    var banner = document.querySelector(".flash-banner");
    var base = document.title.replace(/^\u26a0 FLASH · /, "");
    document.title = banner ? "\u26a0 FLASH · " + base : base;
    flashChime(banner);
  }

  /* A FLASH is heard as well as seen: a two-tone chime when one arrives and again every
   * 60 s while one is unacknowledged (Web Audio, no sound file). Browsers allow sound only
   * after the operator has clicked or typed on the page, so the audio context is opened
   * on the first such gesture; until then the chime is counted but silent. */
  var audio = null, lastChime = 0, lastFlash = "";
  function openAudio() {
    if (!audio && (window.AudioContext || window.webkitAudioContext)) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
    if (audio && audio.state === "suspended") { audio.resume(); }
  }
  document.addEventListener("click", openAudio, { once: false, passive: true });
  document.addEventListener("keydown", openAudio, { once: false, passive: true });

  function tone(at, freq) {
    var osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.4);
  }

  function flashChime(banner) {
    if (!banner) { lastFlash = ""; return; }
    var link = banner.querySelector("a");
    var which = link ? link.getAttribute("href") : "flash";
    var due = which !== lastFlash || Date.now() - lastChime > 60000;
    if (!due) { return; }
    lastFlash = which;
    lastChime = Date.now();
    document.body.dataset.flashChimes = String(Number(document.body.dataset.flashChimes || 0) + 1);
    if (audio && audio.state === "running") {
      var t = audio.currentTime;
      tone(t, 880);
      tone(t + 0.4, 660);
    }
  }

  function isEditing(region) {
    if (region.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) {
      return true;
    }
    return Array.prototype.some.call(region.querySelectorAll("input:not([type=hidden]), textarea"), function (f) {
      return f.value !== f.defaultValue;
    });
  }

  function connect() {
    if (!window.EventSource) { return; }
    var since = encodeURIComponent(body.getAttribute("data-stamp") || "");
    var source = new EventSource("/console/events?since=" + since);
    var status = document.getElementById("live-status");
    source.addEventListener("changed", function () {
      body.dispatchEvent(new CustomEvent("hotline:changed"));
    });
    source.onopen = function () { body.classList.remove("offline"); };
    source.onerror = function () {
      body.classList.add("offline");
      if (status && source.readyState === EventSource.CLOSED) { status.textContent = ""; }
    };
  }

  function addRow(button) {
    var group = button.closest("[data-group]");
    var rows = group.querySelector(".group-rows");
    var template = group.querySelector("template");
    var n = 0;
    while (group.querySelector("[name^='" + group.getAttribute("data-group") + "-" + n + "-']")) { n += 1; }
    var html = template.innerHTML.replace(/__N__/g, String(n));
    rows.insertAdjacentHTML("beforeend", html);
    var added = rows.lastElementChild;
    var id = added.querySelector(".vol-id");
    if (id) { id.value = "V" + (n + 1); }
    var first = added.querySelector("input:not(.vol-id), select, textarea");
    if (first) { first.focus(); }
    body.dispatchEvent(new CustomEvent("hotline:rows", { detail: { added: added } }));
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add]");
    if (add) { event.preventDefault(); addRow(add); return; }
    var remove = event.target.closest(".remove-row");
    if (remove) {
      var row = remove.closest(".group-row");
      var rows = row && row.parentElement;
      if (rows && rows.children.length > 1) {
        row.remove();
        body.dispatchEvent(new CustomEvent("hotline:rows", { detail: { removed: row } }));
      }
    }
  });

  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    var trigger = elt.getAttribute("hx-trigger") || "";
    if (trigger.indexOf("hotline:changed") !== -1 && isEditing(elt)) { event.preventDefault(); }
  });
  document.addEventListener("htmx:afterSettle", function () { tickCountdowns(); flashTitle(); });

  tickCountdowns();
  flashTitle();
  setInterval(tickCountdowns, 1000);
  setInterval(function () { flashChime(document.querySelector(".flash-banner")); }, 5000);
  connect();
})();
