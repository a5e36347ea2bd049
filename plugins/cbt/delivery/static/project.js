/* The projector view: keep the token current (it changes every 15 minutes). */
(function () {
  "use strict";
  var root = document.getElementById("project");
  if (!root) { return; }
  function refresh() {
    fetch(root.dataset.tokenUrl, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.token) { document.getElementById("token").textContent = data.token; } })
      .catch(function () { /* the next refresh tries again */ });
  }
  window.setInterval(refresh, 20000);
}());
