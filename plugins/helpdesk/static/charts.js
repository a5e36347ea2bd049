// Helpdesk report charts, drawn with chart.js served by Ruang itself (/assets).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("report-data");
    if (!node || typeof Chart === "undefined") { return; }
    var data = JSON.parse(node.textContent);
    var palette = ["#0b5cad", "#16703a", "#b42318", "#8a5a00", "#6b3fa0", "#0f7b8a", "#5d6878", "#c2410c"];

    function draw(id, config) {
      var canvas = document.getElementById(id);
      if (canvas) { new Chart(canvas, config); }
    }
    function bars(id, pairs, horizontal) {
      draw(id, {
        type: "bar",
        data: { labels: pairs.labels, datasets: [{ data: pairs.values, backgroundColor: palette }] },
        options: { indexAxis: horizontal ? "y" : "x", plugins: { legend: { display: false } },
                   scales: { x: { beginAtZero: true, ticks: { precision: 0 } },
                             y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }
    var volume = document.getElementById("chart-volume");
    draw("chart-volume", {
      type: "line",
      data: { labels: data.days, datasets: [
        { label: volume ? volume.getAttribute("data-label-filed") : "", data: data.filed,
          borderColor: palette[0], backgroundColor: palette[0], tension: 0.2 },
        { label: volume ? volume.getAttribute("data-label-resolved") : "", data: data.resolved,
          borderColor: palette[1], backgroundColor: palette[1], tension: 0.2 }] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    draw("chart-state", { type: "doughnut",
      data: { labels: data.state.labels, datasets: [{ data: data.state.values, backgroundColor: palette }] } });
    bars("chart-division", data.division, false);
    bars("chart-category", data.category, true);
    draw("chart-channel", { type: "doughnut",
      data: { labels: data.channel.labels, datasets: [{ data: data.channel.values, backgroundColor: palette }] } });
    bars("chart-ratings", { labels: ["1★", "2★", "3★", "4★", "5★"], values: data.ratings }, false);
  });
})();
