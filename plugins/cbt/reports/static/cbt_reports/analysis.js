/* Charts of the item analysis page: the score histogram and difficulty vs discrimination.
   Data comes from the page's JSON endpoint (CSP forbids inline scripts). */
(function () {
  "use strict";
  function start() {
    var holder = document.getElementById("cbt-analysis");
    var scores = document.getElementById("cbt-chart-scores");
    var items = document.getElementById("cbt-chart-items");
    if (!holder || !scores || !items || typeof window.Chart === "undefined") return;
    fetch(holder.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { draw(data, scores, items); holder.dataset.ready = "1"; })
      .catch(function (err) { holder.dataset.error = String(err); });
  }
  function draw(data, scores, items) {
    var bins = data.distribution.bins;
    new window.Chart(scores, {
      type: "bar",
      data: {
        labels: bins.map(function (b) { return Math.round(b.lower) + "–" + Math.round(b.upper) + "%"; }),
        datasets: [{ label: scores.dataset.label, data: bins.map(function (b) { return b.count; }),
                     backgroundColor: "rgba(30, 64, 120, .75)" }]
      },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { x: { title: { display: true, text: scores.dataset.x } },
                           y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    function point(s) {
      var r = s.point_biserial !== null ? s.point_biserial : s.upper_lower;
      return { x: s.facility, y: r, label: s.label };
    }
    var usable = data.items.filter(function (s) {
      return s.facility !== null && (s.point_biserial !== null || s.upper_lower !== null);
    });
    new window.Chart(items, {
      type: "scatter",
      data: { datasets: [
        { label: items.dataset.ok, data: usable.filter(function (s) { return !s.flagged; }).map(point),
          backgroundColor: "rgba(30, 120, 70, .8)", pointRadius: 5 },
        { label: items.dataset.bad, data: usable.filter(function (s) { return s.flagged; }).map(point),
          backgroundColor: "rgba(190, 60, 40, .85)", pointRadius: 6, pointStyle: "triangle" }
      ] },
      options: { animation: false, maintainAspectRatio: false,
                 plugins: { tooltip: { callbacks: { label: function (c) {
                   return c.raw.label + " (p " + c.raw.x.toFixed(2) + ", r " + c.raw.y.toFixed(2) + ")"; } } } },
                 scales: { x: { min: 0, max: 1, title: { display: true, text: items.dataset.x } },
                           y: { min: -1, max: 1, title: { display: true, text: items.dataset.y } } } }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
