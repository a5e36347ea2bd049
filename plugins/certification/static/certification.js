// Live seat counts on the certification portal: polls the small JSON endpoint named by
// data-seats-url and updates every element marked data-remaining / data-waiting inside the
// element with the matching data-field-id. Pages work without it (counts as rendered).
(function () {
  "use strict";
  var INTERVAL_MS = 5000;

  function update(data) {
    (data.fields || []).forEach(function (f) {
      var boxes = document.querySelectorAll('[data-field-id="' + f.id + '"]');
      boxes.forEach(function (box) {
        box.querySelectorAll("[data-remaining]").forEach(function (el) { el.textContent = f.remaining; });
        box.querySelectorAll("[data-waiting]").forEach(function (el) { el.textContent = f.waiting; });
        box.querySelectorAll("[data-quota]").forEach(function (el) { el.textContent = f.quota; });
        box.classList.toggle("cert-full", f.remaining === 0);
      });
    });
    var stamp = document.getElementById("seats-updated");
    if (stamp) { stamp.textContent = new Date().toLocaleTimeString(); }
  }

  function poll(url) {
    if (document.hidden) { return; }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { update(data); } })
      .catch(function () { /* offline for a moment: try again next round */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.querySelector("[data-seats-url]");
    if (!source) { return; }
    var url = source.getAttribute("data-seats-url");
    poll(url);
    window.setInterval(function () { poll(url); }, INTERVAL_MS);
  });
})();
