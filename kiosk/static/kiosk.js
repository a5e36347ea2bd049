/* The kiosk page: enrolment with a code, then heartbeats while waiting for an exam.
 *
 * The credential (a long random token) is kept in localStorage and, by the server, in an
 * HttpOnly cookie. Heartbeats go over Socket.IO (namespace /kiosk); when the Socket.IO
 * client is missing or cannot connect, over HTTP (POST /kiosk/heartbeat).
 */
(function () {
  "use strict";

  var root = document.getElementById("kiosk");
  if (!root) { return; }
  var ds = root.dataset;
  var texts = JSON.parse(document.getElementById("kiosk-texts").textContent || "{}");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var TOKEN_KEY = ds.tokenKey || "ruang.kiosk.token";
  var EVERY_MS = (parseInt(ds.heartbeatS, 10) || 10) * 1000;

  function storedToken() {
    try { return window.localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }
  function storeToken(token) {
    try { window.localStorage.setItem(TOKEN_KEY, token); } catch (e) { /* cookie still holds it */ }
  }
  function dropToken() {
    try { window.localStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing to drop */ }
  }

  function postJSON(url, body, headers) {
    var h = { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf };
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(url, {
      method: "POST", headers: h, body: JSON.stringify(body || {}),
      credentials: "same-origin", cache: "no-store"
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { status: resp.status, data: data };
      });
    });
  }

  // A kiosk is not a desktop: no context menu, no text selection by accident.
  document.addEventListener("contextmenu", function (ev) { ev.preventDefault(); });
  document.addEventListener("click", function () {
    var el = document.documentElement;
    if (!document.fullscreenElement && el.requestFullscreen) {
      el.requestFullscreen().catch(function () { /* the kiosk browser may already be full-screen */ });
    }
  }, { once: true });

  if (ds.state === "enrolled") { waiting(); } else { enrolment(); }

  // -- enrolment ---------------------------------------------------------------------------

  function enrolment() {
    var errorBox = document.getElementById("enrol-error");
    var codeForm = document.getElementById("code-form");
    var codeInput = document.getElementById("code-input");
    var stepCode = document.getElementById("step-code");
    var stepSeat = document.getElementById("step-seat");
    var grid = document.getElementById("seat-grid");
    var labelForm = document.getElementById("label-form");
    var labelInput = document.getElementById("label-input");
    var confirmBox = document.getElementById("confirm");
    var confirmText = document.getElementById("confirm-text");
    var code = "";
    var chosen = null;

    function showError(msg) { errorBox.textContent = msg || ""; }

    // A browser that still knows its token but lost its cookie: the heartbeat restores it.
    var token = storedToken();
    if (token) {
      postJSON(ds.urlHeartbeat, {}, { "X-Kiosk-Token": token }).then(function (r) {
        if (r.status === 200 && r.data.ok) { window.location.replace(ds.urlPage); }
        else if (r.status === 401) { dropToken(); }
      }).catch(function () { /* offline: the form stays */ });
    }

    codeForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      code = codeInput.value.replace(/[\s-]/g, "").toUpperCase();
      if (!code) { codeInput.focus(); return; }
      showError(texts.checking);
      postJSON(ds.urlCode, { code: code }).then(function (r) {
        if (!r.data.ok) { showError(r.data.message); codeInput.select(); return; }
        showError("");
        drawSeats(r.data.lab, r.data.seats);
        stepCode.hidden = true;
        stepSeat.hidden = false;
      }).catch(function () { showError(texts.network); });
    });

    function drawSeats(lab, seats) {
      document.getElementById("enrol-lab").textContent = lab.name + " (" + lab.code + ")";
      grid.textContent = "";
      grid.style.gridTemplateColumns = "repeat(" + lab.cols + ", minmax(2.6rem, 1fr))";
      seats.forEach(function (seat) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "seat" + (seat.taken ? " taken" : "") + (seat.active ? "" : " inactive");
        b.style.gridRow = String(seat.row);
        b.style.gridColumn = String(seat.col);
        b.textContent = seat.label;
        b.dataset.seatId = String(seat.id);
        b.title = seat.hostname ? seat.label + " · " + seat.hostname : seat.label;
        if (seat.taken) { b.title += " (" + texts.taken + ")"; }
        b.disabled = !seat.active;
        b.addEventListener("click", function () { ask({ id: seat.id, label: seat.label }); });
        grid.appendChild(b);
      });
    }

    function ask(seat) {
      chosen = seat;
      confirmText.textContent = texts.confirm.replace("%(seat)s", seat.label);
      confirmBox.hidden = false;
      document.getElementById("confirm-yes").focus();
    }

    labelForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var label = labelInput.value.trim().toUpperCase();
      if (!label) { showError(texts.seat_missing); return; }
      ask({ id: null, label: label });
    });

    document.getElementById("confirm-no").addEventListener("click", function () {
      chosen = null;
      confirmBox.hidden = true;
    });

    document.getElementById("confirm-yes").addEventListener("click", function () {
      if (!chosen) { return; }
      var body = { code: code };
      if (chosen.id) { body.seat_id = chosen.id; } else { body.seat = chosen.label; }
      showError(texts.enrolling);
      postJSON(ds.urlEnrol, body).then(function (r) {
        if (!r.data.ok) {
          showError(r.data.message);
          confirmBox.hidden = true;
          if (r.data.error === "expired" || r.data.error === "throttled") { back(); }
          return;
        }
        storeToken(r.data.token);
        window.location.replace(ds.urlPage);
      }).catch(function () { showError(texts.network); });
    });

    function back() {
      stepSeat.hidden = true;
      stepCode.hidden = false;
      confirmBox.hidden = true;
      codeInput.select();
    }
    document.getElementById("back").addEventListener("click", function () { showError(""); back(); });
  }

  // -- waiting for an exam -----------------------------------------------------------------

  function waiting() {
    var status = document.getElementById("status");
    var statusText = document.getElementById("status-text");
    var clock = document.getElementById("clock");
    var socket = null;
    var timer = null;
    var httpFailures = 0;

    function setOnline(on) {
      status.dataset.online = on ? "1" : "0";
      statusText.textContent = on ? texts.online : texts.offline;
    }

    function tick() {
      var now = new Date();
      clock.textContent = now.toLocaleTimeString("id-ID", { hour: "2-digit", minute: "2-digit" });
    }
    tick();
    window.setInterval(tick, 15000);

    function revoked() {
      if (socket) { socket.disconnect(); }
      if (timer) { window.clearInterval(timer); }
      dropToken();
      statusText.textContent = texts.revoked;
      postJSON(ds.urlForget, {}).finally(function () {
        window.setTimeout(function () { window.location.replace(ds.urlPage); }, 3000);
      });
    }

    function openPath(path) {
      // Only pages of this server: a kiosk is never sent elsewhere.
      if (typeof path === "string" && path.charAt(0) === "/" && path.charAt(1) !== "/" &&
          path.indexOf("\\") < 0) {
        window.location.assign(path);
      }
    }

    function httpBeat() {
      var token = storedToken();
      var headers = token ? { "X-Kiosk-Token": token } : {};
      postJSON(ds.urlHeartbeat, { page: "waiting" }, headers).then(function (r) {
        if (r.status === 401) { revoked(); return; }
        httpFailures = 0;
        setOnline(!!r.data.ok);
      }).catch(function () {
        httpFailures += 1;
        setOnline(false);
      });
    }

    function useHttp() {
      if (timer) { return; }
      httpBeat();
      timer = window.setInterval(function () {
        if (socket && socket.connected) { return; }
        httpBeat();
      }, EVERY_MS);
    }

    if (typeof window.io !== "function") { useHttp(); return; }

    socket = window.io(ds.namespace, {
      auth: { token: storedToken() },
      transports: ["websocket", "polling"]
    });
    socket.on("connect", function () {
      setOnline(true);
      socket.emit("heartbeat", { page: "waiting" });
    });
    socket.on("disconnect", function () { setOnline(false); });
    socket.on("connect_error", function () {
      setOnline(false);
      // The server refused this kiosk (socket no longer trying) or the socket cannot get
      // through a proxy: HTTP tells which, and keeps the kiosk counted as online.
      useHttp();
    });
    socket.on("revoked", revoked);
    socket.on("open", function (msg) { openPath(msg && msg.path); });
    window.setInterval(function () {
      if (!socket.connected) { return; }
      socket.emit("heartbeat", { page: "waiting" }, function (ack) {
        if (ack && ack.ok === false && (ack.error === "revoked" || ack.error === "not_enrolled")) {
          revoked();
        }
      });
    }, EVERY_MS);
  }
}());
