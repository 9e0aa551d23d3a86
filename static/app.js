// Optional comfort; every page works without it.
// Shows times in the reader's own time zone, with "5 min ago" for recent ones,
// and asks before destructive actions.
(function () {
  "use strict";
  var rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
  var fmt = window.Intl ? new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }) : null;
  function relative(date) {
    if (!rtf) return null;
    var s = (date.getTime() - Date.now()) / 1000, a = Math.abs(s);
    if (a < 60) return rtf.format(Math.round(s), "second");
    if (a < 3600) return rtf.format(Math.round(s / 60), "minute");
    if (a < 86400) return rtf.format(Math.round(s / 3600), "hour");
    if (a < 86400 * 7) return rtf.format(Math.round(s / 86400), "day");
    return null;
  }
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d)) return;
    el.title = el.textContent;
    var rel = relative(d);
    el.textContent = rel || (fmt ? fmt.format(d) : el.textContent);
  });
  // A refused form's summary of errors takes the focus (also without
  // JavaScript, by `autofocus`; this covers browsers that ignore it there).
  var summary = document.querySelector("[autofocus][tabindex]");
  if (summary && document.activeElement !== summary) summary.focus();
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
  // Camunda Forms: re-ask the server which components their conditions hide
  // (FEEL stays on the server); without this script the page re-renders
  // conditions after each submit.
  document.querySelectorAll("form[data-cf-hidden]").forEach(function (f) {
    var timer = null;
    function refresh() {
      var body = new URLSearchParams(new FormData(f));
      fetch(f.getAttribute("data-cf-hidden"), { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (answer) {
          if (!answer || !answer.hidden) return;
          f.querySelectorAll("[data-cf-cond]").forEach(function (cell) {
            var id = cell.getAttribute("data-cf-cond").replace(/^cf-/, "");
            cell.hidden = answer.hidden.indexOf(id) >= 0;
          });
        })
        .catch(function () {});
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
    f.addEventListener("input", later);
    f.addEventListener("change", later);
  });
})();
