/* The exam room page: refresh the token and the candidates' states every few seconds. */
(function () {
  "use strict";
  var room = document.getElementById("room");
  if (!room) { return; }
  var url = room.dataset.statusUrl;
  var labels = JSON.parse(document.getElementById("room-labels").textContent || "{}");
  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        document.getElementById("token").textContent = data.token;
        data.candidates.forEach(function (c) {
          var row = document.querySelector('#room-candidates tr[data-candidate="' + c.candidate + '"]');
          if (!row) { return; }
          row.dataset.state = c.state;
          var cells = row.querySelectorAll("td");
          cells[3].textContent = labels[c.state] || c.state;
          cells[4].textContent = c.attempt ? c.answered + "/" + c.total : "–";
          if (c.state === "running" && c.remaining_s !== null) {
            var m = Math.floor(c.remaining_s / 60), s = c.remaining_s % 60;
            cells[5].textContent = m + ":" + (s < 10 ? "0" : "") + s;
          } else { cells[5].textContent = ""; }
        });
      }).catch(function () { /* the next refresh tries again */ });
  }
  window.setInterval(refresh, 5000);
}());
