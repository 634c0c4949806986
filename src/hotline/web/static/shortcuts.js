/* Keyboard shortcuts for the night shift: j/k next/previous message, a acknowledge,
 * o/Enter open, ? help. The selection is the message row holding the focus, so a
 * screen reader follows it; after an acknowledgement replaces the inbox (htmx swap) the
 * focus goes back to the same row, or the one now in its place, never to the page top.
 * Keys typed into a field, or with Ctrl/Alt/Meta, are left alone.
 */
(function () {
  "use strict";

  var help = document.getElementById("shortcut-help");

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.msg")); }

  function current() {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest("tr.msg") : null;
    return row || document.querySelector("tr.msg.kb-selected");
  }

  function select(row) {
    if (!row) { return; }
    rows().forEach(function (r) { r.classList.toggle("kb-selected", r === row); });
    var link = row.querySelector(".c-subject a") || row.querySelector("a, button");
    if (link) { link.focus(); }
    row.scrollIntoView({ block: "nearest" });
  }

  function step(by) {
    var all = rows();
    if (!all.length) { return; }
    var at = all.indexOf(current());
    select(all[at < 0 ? (by > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + by))]);
  }

  /* The acknowledge button of the selected row; on a message page, the page's own. */
  function ackButton() {
    var row = current();
    if (row) { return row.querySelector("button.ack"); }
    return document.querySelector(".message-head button.ack");
  }

  function open() {
    var row = current();
    var link = row && row.querySelector(".c-subject a");
    if (link) { window.location.href = link.href; }
  }

  function toggleHelp() {
    if (!help) { return; }
    if (help.open) { help.close(); } else { help.showModal(); }
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey || typing(e.target)) { return; }
    if (e.key === "?") { e.preventDefault(); toggleHelp(); return; }
    if (help && help.open) { return; }
    if (e.key === "j") { e.preventDefault(); step(1); }
    else if (e.key === "k") { e.preventDefault(); step(-1); }
    else if (e.key === "a") {
      var button = ackButton();
      if (button) { e.preventDefault(); button.click(); }
    }
    else if (e.key === "o" || (e.key === "Enter" && e.target && e.target.tagName === "TR")) { e.preventDefault(); open(); }
  });

  /* Keep the officer's place across an inbox swap (acknowledging replaces #inbox). */
  var kept = null;
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    var row = current();
    if (!row || !e.detail.target || !e.detail.target.contains(row)) { kept = null; return; }
    var all = rows();
    kept = { id: row.id, index: all.indexOf(row), focused: e.detail.target.contains(document.activeElement) };
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!kept) { return; }
    var all = rows(), wanted = kept;
    kept = null;
    if (!wanted.focused && document.activeElement && document.activeElement !== document.body) { return; }
    /* The row now where the officer was: the next to see to when the queue moved up. */
    var row = all[Math.min(wanted.index, all.length - 1)] || document.getElementById(wanted.id);
    select(row);
  });
})();
