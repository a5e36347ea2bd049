/* Live parts of the rooms pages: the seat map's online dots, the enrolment countdown. */
(function () {
  "use strict";

  var map = document.getElementById("seatmap");
  if (map && map.dataset.statusUrl && window.fetch) {
    var refresh = function () {
      fetch(map.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          data.seats.forEach(function (s) {
            var cell = document.getElementById("seat-" + s.id);
            if (!cell) { return; }
            ["working", "faulty", "in_repair", "no_device", "inactive"].forEach(function (c) {
              cell.classList.toggle(c, c === s.state);
            });
            var dot = cell.querySelector(".kdot");
            if (dot) { dot.className = "kdot " + (s.online ? "on" : (s.kiosk ? "off" : "none")); }
          });
          var count = document.getElementById("online-count");
          if (count) { count.textContent = String(data.online); }
        })
        .catch(function () { /* keep the last known state */ });
    };
    window.setInterval(refresh, 10000);
  }

  var screen = document.getElementById("enrol-screen");
  if (screen) {
    var left = parseInt(screen.dataset.expiresIn, 10) || 0;
    var countdown = document.getElementById("countdown");
    if (countdown && left > 0) {
      var started = Date.now();
      window.setInterval(function () {
        var remain = Math.max(0, left - Math.floor((Date.now() - started) / 1000));
        var m = Math.floor(remain / 60);
        var s = remain % 60;
        countdown.textContent = m + ":" + (s < 10 ? "0" : "") + s;
        if (remain === 0) { window.location.reload(); }
      }, 1000);
    }
    // Show newly enrolled seats while staff walk the lab.
    if (left > 0) { window.setTimeout(function () { window.location.reload(); }, 20000); }
  }
}());
