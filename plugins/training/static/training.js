// Behaviour of the training pages: charts, the check-in scanner, printing. Every page
// works without it (the scanner form posts normally); CSP forbids inline scripts.
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  var GREEN = "#14532d", BLUE = "#0b5cad", ORANGE = "#c2410c";

  // -- evaluation charts -----------------------------------------------------------------
  function evaluationCharts() {
    var data = readJSON("training-chart-data");
    if (!data || !window.Chart) { return; }
    var ratings = document.getElementById("training-chart-ratings");
    if (ratings) {
      new window.Chart(ratings, {
        type: "bar",
        data: { labels: data.labels.aspects,
                datasets: [{ label: data.labels.average, backgroundColor: GREEN,
                             data: data.aspects.map(function (a) { return a.average; }) }] },
        options: { indexAxis: "y", maintainAspectRatio: false,
                   scales: { x: { min: 0, max: 5 } }, plugins: { legend: { display: false } } }
      });
    }
    var scores = document.getElementById("training-chart-scores");
    if (scores) {
      var labels = data.scores.map(function (_s, i) { return data.labels.participant + " " + (i + 1); });
      new window.Chart(scores, {
        type: "bar",
        data: { labels: labels, datasets: [
          { label: data.labels.pre, backgroundColor: ORANGE, data: data.scores.map(function (s) { return s.pre; }) },
          { label: data.labels.post, backgroundColor: BLUE, data: data.scores.map(function (s) { return s.post; }) }] },
        options: { maintainAspectRatio: false, scales: { y: { min: 0, max: 100 } } }
      });
    }
  }

  // -- yearly summary charts -------------------------------------------------------------
  function summaryCharts() {
    var data = readJSON("training-summary-data");
    if (!data || !window.Chart) { return; }
    var months = document.getElementById("training-chart-months");
    if (months) {
      new window.Chart(months, {
        type: "bar",
        data: { labels: data.months, datasets: [{ label: data.labels.trainings, backgroundColor: GREEN, data: data.per_month }] },
        options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
                   plugins: { legend: { display: false } } }
      });
    }
    var outcomes = document.getElementById("training-chart-outcomes");
    if (outcomes) {
      new window.Chart(outcomes, {
        type: "bar",
        data: { labels: data.trainings, datasets: [
          { label: data.labels.rating, backgroundColor: GREEN, data: data.ratings, yAxisID: "y" },
          { label: data.labels.gain, backgroundColor: BLUE, data: data.gains, yAxisID: "y1" }] },
        options: { maintainAspectRatio: false,
                   scales: { y: { min: 0, max: 5, position: "left" }, y1: { min: -1, max: 1, position: "right", grid: { drawOnChartArea: false } } } }
      });
    }
  }

  // -- the check-in scanner --------------------------------------------------------------
  function scanner() {
    var box = document.getElementById("scanner");
    if (!box) { return; }
    var form = $("#scanner-form"), input = $("#scanner-code"), result = $("#scanner-result");
    var count = $("#scanner-count"), startBtn = $("#scanner-start");
    var busy = false, last = "", lastAt = 0;

    function show(ok, text) {
      result.hidden = false;
      result.className = "notice " + (ok ? "ok" : "bad");
      result.textContent = text;
    }

    function send(code) {
      code = (code || "").trim();
      var now = Date.now();
      if (!code || busy || (code === last && now - lastAt < 4000)) { return; }
      busy = true; last = code; lastAt = now;
      fetch(box.getAttribute("data-url"), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": box.getAttribute("data-csrf") },
        body: JSON.stringify({ code: code })
      }).then(function (r) { return r.json(); }).then(function (answer) {
        show(answer.ok, answer.message || "");
        if (answer.ok && count) { count.textContent = answer.attended; }
      }).catch(function () {
        show(false, "Network error");
      }).then(function () { busy = false; input.value = ""; input.focus(); });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(input.value);
    });

    startBtn.addEventListener("click", function () {
      if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
        show(false, box.getAttribute("data-no-camera"));
        return;
      }
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      var video = document.getElementById("scanner-video");
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.parentNode.hidden = false;
        startBtn.hidden = true;
        return video.play();
      }).then(function () {
        function tick() {
          detector.detect(video).then(function (codes) {
            if (codes.length) { send(codes[0].rawValue); }
          }).catch(function () {}).then(function () { window.setTimeout(tick, 350); });
        }
        tick();
      }).catch(function (err) { show(false, String(err)); });
    });
  }

  // -- small things ----------------------------------------------------------------------
  function misc() {
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    var mode = document.querySelector("[data-toggle-exams]");
    var exams = document.querySelector("[data-exams]");
    if (mode && exams) {
      var sync = function () { exams.hidden = mode.value !== "external"; };
      mode.addEventListener("change", sync);
      sync();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    evaluationCharts();
    summaryCharts();
    scanner();
    misc();
  });
})();
