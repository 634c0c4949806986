/* Hotline operator console: clock, deadline countdowns, live updates, form rows.
 *
 * Live updates: one EventSource on /console/events; each "changed" event is re-sent as
 * a "hotline:changed" DOM event on <body>, and every region that shows live state
 * reloads itself through htmx (hx-trigger="hotline:changed from:body"). A region being
 * edited (a field has focus or text) is left alone until the next change.
 *
 * Never fail quietly: the stream sends a "beat" every second when nothing changed. When
 * neither arrives for LOST_MS the node is declared lost: a full-width banner says so with
 * the time of the last update, countdowns stop and grey, and every action (a form post,
 * an htmx request) is refused with a message beside it, the form's entries kept. The
 * first event after that takes the banner down and reloads the live regions. A plain form
 * (not htmx) asks the node first, so a post in the moment before the watchdog notices a
 * dead node is refused the same way instead of landing on the browser's error page.
 *
 * Link down: while the header shows a link-down alarm nobody has acknowledged, a low
 * three-tone sound (distinct from the FLASH chime) repeats every LINK_TONE_MS;
 * window.hotlineSound.count counts the requests (tests read it; the sound itself needs
 * a first click or key on the page, as browsers require).
 *
 * Times are UTC. The page carries the server's time when it was drawn; countdowns use
 * the offset between that and the browser's clock, so a wrong desk clock does not
 * shorten or lengthen a deadline.
 */
(function () {
  "use strict";

  var body = document.body;
  var LOST_MS = 2200, LINK_TONE_MS = 8000;
  var offline = false, lastHeard = Date.now(), source = null;
  window.hotlineSound = window.hotlineSound || { count: 0, lastKind: "" };
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
      if (offline) { return; }  // frozen (and greyed by CSS) while the node is lost
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

  function clockText(ms) {
    var d = new Date(ms);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + "Z";
  }

  function setOffline(lost) {
    if (lost === offline) { return; }
    offline = lost;
    body.classList.toggle("offline", lost);
    var banner = document.getElementById("offline-banner");
    if (banner) { banner.hidden = !lost; }
    if (lost) {
      body.dataset.offlineSince = String(Date.now());
      var base = document.title.replace(/^\u2716 /, "");
      document.title = "\u2716 " + base;
    } else {
      document.title = document.title.replace(/\u2716 /, "");
      document.querySelectorAll(".offline-refusal").forEach(function (el) { el.remove(); });
      body.dispatchEvent(new CustomEvent("hotline:changed"));  // catch up on what we missed
    }
  }

  function heard() {
    lastHeard = Date.now();
    var last = document.getElementById("last-update");
    if (last) { last.textContent = clockText(now()); }
    setOffline(false);
  }

  function watchdog() {
    if (!window.EventSource) { return; }
    if (Date.now() - lastHeard > LOST_MS) { setOffline(true); }
    // A stream the browser gave up on (an HTTP error, not a network one) is reopened here.
    if (!source || source.readyState === EventSource.CLOSED) { connect(); }
  }

  function connect() {
    if (!window.EventSource) { return; }
    if (source) { source.close(); }
    var since = encodeURIComponent(body.getAttribute("data-stamp") || "");
    source = new EventSource("/console/events?since=" + since);
    source.addEventListener("changed", function () {
      heard();
      body.dispatchEvent(new CustomEvent("hotline:changed"));
    });
    source.addEventListener("beat", heard);
    source.onopen = heard;
  }

  /* An action while the node is lost is refused where it was taken, never dropped. */
  function refuse(elt) {
    var form = elt.closest("form") || elt;
    var note = form.querySelector(".offline-refusal");
    if (!note) {
      note = document.createElement("p");
      note.className = "offline-refusal";
      note.setAttribute("role", "alert");
      form.appendChild(note);
    }
    note.textContent = body.getAttribute("data-word-refused") || "Not sent: no connection to the node.";
  }

  /* A plain form (not htmx) is posted by the browser itself, which would show its own
   * error page if the node died a moment ago (before the watchdog noticed, LOST_MS). So
   * the node is asked first (a HEAD of a file it serves, PROBE_MS at most): no answer,
   * and the post is refused beside the form as above, its entries kept; an answer, and
   * the browser posts the form as it would have (same submitter, same navigation).
   * Without JavaScript the form simply posts. */
  var PROBE_MS = 2000;
  function probe() {
    var control = window.AbortController ? new AbortController() : null;
    var timer = control ? setTimeout(function () { control.abort(); }, PROBE_MS) : 0;
    var options = { method: "HEAD", cache: "no-store", credentials: "same-origin" };
    if (control) { options.signal = control.signal; }
    return fetch("/console/static/favicon.svg", options).then(
      function (response) { clearTimeout(timer); return response.ok; },
      function () { clearTimeout(timer); return false; });
  }

  function plainPost(form) {
    return form instanceof HTMLFormElement && (form.getAttribute("method") || "").toLowerCase() === "post"
      && !form.hasAttribute("hx-post") && !!window.fetch;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (offline) { event.preventDefault(); event.stopPropagation(); refuse(form); return; }
    if (!plainPost(form)) { return; }
    if (form.dataset.probed === "1") { delete form.dataset.probed; return; }  // the node answered
    event.preventDefault();
    if (form.dataset.probing === "1") { return; }  // a second click while asking
    form.dataset.probing = "1";
    var submitter = event.submitter || null;
    probe().then(function (alive) {
      delete form.dataset.probing;
      if (!alive) { setOffline(true); refuse(form); return; }
      form.dataset.probed = "1";
      if (form.requestSubmit) {
        if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
      } else { form.submit(); }
    });
  }, true);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var trigger = event.detail.elt.getAttribute("hx-trigger") || "";
    if (!offline || trigger.indexOf("hotline:changed") !== -1) { return; }
    event.preventDefault();
    refuse(event.detail.elt);
  });
  document.addEventListener("htmx:sendError", function (event) {
    setOffline(true);  // the request found no node: say so now, not at the next beat
    var trigger = event.detail.elt.getAttribute("hx-trigger") || "";
    if (trigger.indexOf("hotline:changed") === -1) { refuse(event.detail.elt); }
  });

  /* The nav's Alarms badge follows the banner fragment's count. */
  function updateBadge() {
    var bar = document.querySelector("#banner .linkbar");
    var link = document.querySelector(".mainnav a[href='/console/alarms']");
    if (!bar || !link) { return; }
    var n = Number(bar.getAttribute("data-open-alarms") || 0);
    var badge = document.getElementById("nav-alarm-count");
    if (!n) { if (badge) { badge.remove(); } return; }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "count alarm-count";
      badge.id = "nav-alarm-count";
      link.appendChild(document.createTextNode(" "));
      link.appendChild(badge);
    }
    badge.textContent = String(n);
  }

  var lastLinkTone = 0;
  function linkTone() {
    var banner = document.querySelector(".link-down-banner");
    var unseen = banner ? Number(banner.getAttribute("data-unseen") || 0) : 0;
    if (!unseen) { lastLinkTone = 0; return; }
    if (lastLinkTone && Date.now() - lastLinkTone < LINK_TONE_MS) { return; }
    lastLinkTone = Date.now();
    window.hotlineSound.count += 1;
    window.hotlineSound.lastKind = "link_down";
    body.dataset.linkTones = String(window.hotlineSound.count);
    if (audio && audio.state === "running") {
      var t = audio.currentTime;
      tone(t, 392);
      tone(t + 0.45, 294);
      tone(t + 0.9, 392);
    }
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
  document.addEventListener("htmx:afterSettle", function () {
    tickCountdowns(); flashTitle(); updateBadge(); linkTone();
  });

  tickCountdowns();
  flashTitle();
  updateBadge();
  linkTone();
  setInterval(tickCountdowns, 1000);
  setInterval(function () { flashChime(document.querySelector(".flash-banner")); }, 5000);
  setInterval(linkTone, 1000);
  setInterval(watchdog, 250);
  connect();
})();
