// Optional comfort; every page works without it.
// Shows times in the reader's own time zone, with "5 min ago" for recent ones,
// zooms and pans diagrams in place, and asks before destructive actions.
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
  // The migration page counts the instances picked as boxes are ticked.
  var picks = document.getElementById("instances"), count = document.getElementById("picked");
  if (picks && count) picks.addEventListener("change", function () {
    var boxes = picks.querySelectorAll("input[name=instance]");
    var on = picks.querySelectorAll("input[name=instance]:checked");
    count.textContent = on.length + " of " + boxes.length + " picked";
  });
  // A refused form's summary of errors takes the focus (also without
  // JavaScript, by `autofocus`; this covers browsers that ignore it there).
  var summary = document.querySelector("[autofocus][tabindex]");
  if (summary && document.activeElement !== summary) summary.focus();
  // Diagrams: the zoom links zoom in place, Ctrl+wheel zooms, dragging pans.
  // Without this the same links reload the page with ?zoom= and the frame
  // scrolls natively.
  var ZOOMS = [25, 50, 75, 100, 150, 200, 300, 400];
  document.querySelectorAll(".diagram .canvas[data-width]").forEach(function (canvas) {
    var fig = canvas.closest(".diagram"), svg = canvas.querySelector("svg");
    if (!svg) return;
    var w = parseFloat(canvas.getAttribute("data-width")), h = parseFloat(canvas.getAttribute("data-height"));
    var zoom = canvas.hasAttribute("data-zoom") ? parseFloat(canvas.getAttribute("data-zoom")) : null;
    var now = fig.querySelector(".zoom-now");
    function shown() { return zoom || Math.round(svg.getBoundingClientRect().width / w * 100); }
    function set(z) {
      zoom = z === null ? null : Math.max(ZOOMS[0], Math.min(ZOOMS[ZOOMS.length - 1], Math.round(z)));
      fig.classList.toggle("zoomed", zoom !== null);
      var f = (zoom || 100) / 100;
      svg.setAttribute("width", Math.round(w * f));
      svg.setAttribute("height", Math.round(h * f));
      if (now) now.textContent = zoom === null ? "fit" : zoom + "%";
    }
    function step(up) {
      var z = shown(), next = null;
      ZOOMS.forEach(function (s) {
        if (up ? s > z && next === null : s < z) next = s;
      });
      if (next !== null) set(next);
    }
    fig.querySelectorAll(".zoom a[data-zoom]").forEach(function (a) {
      a.addEventListener("click", function (e) {
        e.preventDefault();
        var v = a.getAttribute("data-zoom");
        if (v === "in" || v === "out") step(v === "in");
        else set(v === "fit" ? null : parseFloat(v));
      });
    });
    canvas.addEventListener("wheel", function (e) {
      if (!e.ctrlKey) return;
      e.preventDefault();
      set(shown() * (e.deltaY < 0 ? 1.15 : 1 / 1.15));
    }, { passive: false });
    var drag = null;
    canvas.addEventListener("pointerdown", function (e) {
      if (e.button !== 0 || e.pointerType === "touch" || e.target.closest("a")) return;
      drag = { x: e.clientX, y: e.clientY, left: canvas.scrollLeft, top: canvas.scrollTop };
      canvas.setPointerCapture(e.pointerId);
      canvas.classList.add("panning");
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drag) return;
      canvas.scrollLeft = drag.left - (e.clientX - drag.x);
      canvas.scrollTop = drag.top - (e.clientY - drag.y);
    });
    function stop() { drag = null; canvas.classList.remove("panning"); }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
  });
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
