/* Lab pages: live availability while filling the request form, the live seat map,
   and the utilisation charts. Every page works without this file; it only saves clicks. */
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  // -- the request form ------------------------------------------------------------------
  function setupWeekly() {
    $all("[data-toggle]").forEach(function (box) {
      var target = document.getElementById(box.getAttribute("data-toggle"));
      if (!target) { return; }
      var sync = function () { target.hidden = !box.checked; };
      box.addEventListener("change", sync);
      sync();
    });
  }

  function setupAvailability() {
    var form = $("#lab-request-form");
    var box = $("#lab-availability");
    if (!form || !box) { return; }
    var url = form.getAttribute("data-availability-url");
    var channel = form.getAttribute("data-channel");
    var timer = null;
    var fields = ["lab_id", "first_day", "start_time", "end_time", "weekly", "last_day",
                  "skip_days", "purpose", "participants", "software_needed"];

    function render(data) {
      box.textContent = "";
      (data.problems || []).forEach(function (p) {
        var n = el("div", "notice bad"); n.appendChild(el("p", "", p)); box.appendChild(n);
      });
      (data.warnings || []).forEach(function (w) {
        var n = el("div", "notice warn"); n.appendChild(el("p", "", w)); box.appendChild(n);
      });
      if (data.slots && data.slots.length) {
        var list = el("ul", "lab-slots");
        data.slots.forEach(function (s) {
          var li = el("li", s.free ? "free" : "taken");
          li.setAttribute("data-date", s.date);
          li.appendChild(el("span", "badge " + (s.free ? "ok" : "bad"), s.free ? "\u2713" : "\u2717"));
          li.appendChild(el("strong", "", s.day));
          li.appendChild(document.createTextNode(" " + s.start + "\u2013" + s.end + " "));
          if (s.clashes.length) { li.appendChild(el("small", "muted", s.clashes.join("; "))); }
          if (s.pending.length) { li.appendChild(el("small", "muted", "\u231B " + s.pending.join(", "))); }
          list.appendChild(li);
        });
        box.appendChild(list);
      }
      if (data.day && data.day.length) {
        var day = el("p", "muted", data.day.map(function (d) {
          return d.start + "\u2013" + d.end + " " + d.title;
        }).join(" \u00b7 "));
        box.appendChild(day);
      }
    }

    function check() {
      var params = new URLSearchParams();
      var complete = true;
      fields.forEach(function (name) {
        var input = form.elements[name];
        if (!input) { return; }
        if (input.type === "checkbox") {
          if (input.checked) { params.set(name, "on"); }
          return;
        }
        if (input.value) { params.set(name, input.value); }
      });
      ["lab_id", "first_day", "start_time", "end_time"].forEach(function (name) {
        if (!params.get(name)) { complete = false; }
      });
      if (!complete) { return; }
      if (!params.get("purpose")) { params.set("purpose", "..."); }
      if (!params.get("participants")) { params.set("participants", "1"); }
      params.set("channel", channel);
      fetch(url + "?" + params.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { render(data); } })
        .catch(function () { /* the "Check availability" button still works */ });
    }

    form.addEventListener("change", function (ev) {
      if (!ev.target || fields.indexOf(ev.target.name) < 0) { return; }
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
  }

  // -- the live seat map ---------------------------------------------------------------
  function setupLive() {
    var map = $("#live-map");
    if (!map) { return; }
    var url = map.getAttribute("data-url");
    function update(data) {
      var labels = data.labels || {};
      data.seats.forEach(function (s) {
        var cell = map.querySelector('[data-seat="' + s.label + '"]');
        if (!cell) { return; }
        if (cell.getAttribute("data-state") !== s.state) {
          cell.className = cell.className.replace(/\bs-[a-z_]+/, "s-" + s.state) + " changed";
          cell.setAttribute("data-state", s.state);
          var stateText = cell.querySelector('[data-field="state"]');
          if (stateText) { stateText.textContent = labels[s.state] || s.state; }
          setTimeout(function () { cell.classList.remove("changed"); }, 1300);
        }
        var occupant = cell.querySelector('[data-field="occupant"]');
        if (occupant) { occupant.textContent = s.occupant || s.host || ""; }
      });
      Object.keys(data.counts || {}).forEach(function (key) {
        var n = document.querySelector('[data-count="' + key + '"]');
        if (n) { n.textContent = data.counts[key]; }
      });
    }
    function poll() {
      if (document.hidden || map.querySelector("details[open]")) { return; }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { update(data); } })
        .catch(function () {});
    }
    setInterval(poll, 5000);
  }

  // -- charts --------------------------------------------------------------------------
  function setupCharts() {
    var source = document.getElementById("lab-chart-data");
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var labs = document.getElementById("lab-chart-labs");
    if (labs) {
      new window.Chart(labs, {
        type: "bar",
        data: { labels: data.labels, datasets: [
          { label: labs.getAttribute("data-booked"), data: data.utilisation, backgroundColor: "#93c5fd" },
          { label: labs.getAttribute("data-used"), data: data.usage, backgroundColor: "#1d4ed8" }
        ] },
        options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + "%"; } } } } }
      });
    }
    $all(".lab-chart-days").forEach(function (canvas) {
      var days = data.days[canvas.getAttribute("data-lab")];
      if (!days) { return; }
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: days.labels, datasets: [
          { label: canvas.getAttribute("data-booked"), data: days.booked, backgroundColor: "#93c5fd" },
          { label: canvas.getAttribute("data-used"), data: days.used, backgroundColor: "#1d4ed8" }
        ] },
        options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, title: { display: true, text: "h" } } } }
      });
    });
  }

  function start() { setupWeekly(); setupAvailability(); setupLive(); setupCharts(); }
  // Deferred scripts (chart.js too) have all run when DOMContentLoaded fires.
  if (document.readyState === "complete") {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
