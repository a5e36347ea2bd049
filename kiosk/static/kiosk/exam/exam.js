/* The exam on a lab kiosk: sign in, wait with the encrypted paper, answer, submit.
 *
 * Protocol version 1 (docs/protocol.md). The rules this script keeps:
 * - every change gets the next sequence number of the attempt, goes to the outbox
 *   (IndexedDB) first, then to the server; it leaves the outbox only when the server
 *   acknowledges it, and is sent again after any disconnect or reload;
 * - the clock is the server's: the countdown shows the server's deadline against the
 *   server's time (offset measured on every sync), and at the deadline inputs lock;
 * - the paper key lives in memory only, the decrypted paper too.
 */
(function () {
  "use strict";

  var root = document.getElementById("exam");
  if (!root) { return; }
  var ds = root.dataset;
  var T = JSON.parse(document.getElementById("exam-texts").textContent || "{}");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var PROTOCOL = parseInt(ds.protocol, 10) || 1;
  var LOGIN_KEY = "ruang.exam.login";
  var WINDOW = 8;            // answers in flight at once
  var ACK_TIMEOUT_MS = 10000;
  var SYNC_EVERY_MS = 20000;
  var TEXT_DEBOUNCE_MS = 800;
  var Store = window.RuangStore;
  var Paper = window.RuangPaper;
  var fmt = Paper.fmt;

  var S = {
    login: null,        // {attempt, secret, info}
    envelope: null,
    paper: null,
    state: "",
    answers: {},        // position -> {v, f, s}
    seq: 0,
    pending: {},        // seq -> message, mirror of the outbox
    inflight: {},
    offset: 0,          // server time - local time, ms
    deadline: null,     // server ms
    current: 0,
    socket: null,
    helloDone: false,
    pendingStart: "",   // a session token typed before the link was up
    reloaded: false,
    offline: false,
    timeUp: false,
    paused: false,      // the proctor stopped the clock (paused_at in server ms)
    pausedAt: null,
    locked: false,      // the proctor locked this kiosk
    textTimers: {}
  };

  // -- small helpers ----------------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function show(screen) {
    ["insecure", "signin", "waiting", "paper", "done", "out"].forEach(function (name) {
      $("screen-" + name).hidden = name !== screen;
    });
    root.dataset.screen = screen;
  }

  function kioskToken() {
    try { return window.localStorage.getItem(ds.tokenKey) || ""; } catch (e) { return ""; }
  }

  function saveLogin(login) {
    S.login = login;
    try { window.localStorage.setItem(LOGIN_KEY, JSON.stringify(login)); } catch (e) { /* memory only */ }
  }

  function loadLogin() {
    try { return JSON.parse(window.localStorage.getItem(LOGIN_KEY) || "null"); } catch (e) { return null; }
  }

  function dropLogin() {
    S.login = null;
    try { window.localStorage.removeItem(LOGIN_KEY); } catch (e) { /* nothing to drop */ }
  }

  function headers(extra) {
    var h = { "Accept": "application/json", "X-CSRFToken": CSRF, "X-Kiosk-Token": kioskToken() };
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }

  function serverNow() { return Date.now() + S.offset; }

  function syncClock(now, sentAt) {
    if (typeof now !== "number") { return; }
    var local = Date.now();
    var rtt = typeof sentAt === "number" ? Math.max(0, local - sentAt) : 0;
    S.offset = now + rtt / 2 - local;
  }

  // -- secure context ----------------------------------------------------------------------

  function secure() {
    return window.isSecureContext && window.crypto && window.crypto.subtle;
  }

  function insecure() {
    var host = window.location.host;
    $("insecure-text").textContent = fmt(T.insecure, { origin: window.location.origin });
    $("insecure-steps").textContent = fmt(T.insecure_operator, {
      host: host, name: window.location.hostname });
    show("insecure");
  }

  // -- sign in -----------------------------------------------------------------------------

  function signinScreen(message) {
    show("signin");
    $("signin-error").textContent = message || "";
    $("signin-password").value = "";
    $("signin-number").focus();
  }

  $("signin-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var number = $("signin-number").value.trim().toUpperCase();
    var password = $("signin-password").value.trim().toUpperCase();
    if (!number || !password) { return; }
    $("signin-error").textContent = T.signing_in;
    $("signin-submit").disabled = true;
    fetch(ds.urlSignin, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ number: number, password: password })
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; });
    }).then(function (data) {
      $("signin-submit").disabled = false;
      if (!data.ok) {
        if (data.error === "not_enrolled") { window.location.replace(ds.urlKiosk); return; }
        $("signin-error").textContent = data.message || T.network;
        return;
      }
      $("signin-error").textContent = "";
      saveLogin({ attempt: data.attempt, secret: data.login, paper: data.paper,
                  info: { exam: data.exam, candidate: data.candidate } });
      begin();
    }).catch(function () {
      $("signin-submit").disabled = false;
      $("signin-error").textContent = T.network;
    });
  });

  // -- waiting: paper staged, key not yet here ----------------------------------------------

  function waitingScreen() {
    var info = S.login.info || {};
    var exam = info.exam || {};
    var cand = info.candidate || {};
    $("waiting-exam").textContent = exam.title || "";
    $("waiting-who").textContent = (cand.name || "") + " · " + (cand.number || "") +
      " · " + T.seat + " " + (cand.seat || ds.seat);
    $("waiting-duration").textContent = fmt(T.duration, { n: exam.duration_min, items: exam.items });
    var box = $("waiting-instructions");
    if (exam.instructions) {
      box.innerHTML = exam.instructions;  // sanitised on the server
      box.hidden = false;
      if (typeof window.ruangTypeset === "function") { window.ruangTypeset(box); }
    } else { box.hidden = true; }
    $("waiting-paper").textContent = S.envelope ? T.paper_ready : T.paper_loading;
    show("waiting");
  }

  $("token-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var token = $("token-input").value.replace(/[\s-]/g, "").toUpperCase();
    if (!token) { return; }
    if (!S.socket || !S.socket.connected || !S.helloDone) {
      // Typed before the link is up (a slow lab network, a busy server): the start goes
      // out by itself once the server has said hello, instead of a click that does nothing.
      S.pendingStart = token;
      $("waiting-error").textContent = T.reconnecting;
      return;
    }
    sendStart(token);
  });

  function sendStart(token) {
    S.pendingStart = "";
    $("waiting-error").textContent = T.starting;
    S.socket.timeout(ACK_TIMEOUT_MS).emit("start", { token: token }, function (err, ack) {
      if (err) { $("waiting-error").textContent = T.network; return; }
      if (!ack.ok) { $("waiting-error").textContent = ack.message || ""; return; }
      $("waiting-error").textContent = "";
      started(ack.key, ack.deadline, ack.now);
    });
  }

  function fetchPaper() {
    if (S.envelope) { return Promise.resolve(S.envelope); }
    return fetch(S.login.paper || ("/cbt/kiosk/paper/" + S.login.attempt), {
      credentials: "same-origin", cache: "no-store",
      headers: headers({ "X-Attempt-Login": S.login.secret })
    }).then(function (resp) {
      if (resp.status === 401) { throw { loggedOut: true }; }
      if (!resp.ok) { throw new Error("paper " + resp.status); }
      return resp.json();
    }).then(function (env) {
      S.envelope = env;
      if (root.dataset.screen === "waiting") { $("waiting-paper").textContent = T.paper_ready; }
      return env;
    });
  }

  // -- the socket --------------------------------------------------------------------------

  function sebKeys() {
    var seb = window.SafeExamBrowser && window.SafeExamBrowser.security;
    if (!seb) { return Promise.resolve({ url: "", key: "" }); }
    return new Promise(function (resolve) {
      var done = function () {
        resolve({ url: window.location.href.split("#")[0], key: seb.configKey || "" });
      };
      if (typeof seb.updateKeys === "function") { seb.updateKeys(done); } else { done(); }
    });
  }

  function connect() {
    if (S.socket) { return; }
    sebKeys().then(function (seb) {
      var socket = window.io(ds.namespace, {
        auth: { v: PROTOCOL, kiosk: kioskToken(), attempt: S.login.attempt,
                login: S.login.secret, seb_url: seb.url, seb_key: seb.key },
        transports: ["websocket", "polling"], tryAllTransports: true,
        reconnectionDelay: 500, reconnectionDelayMax: 5000, randomizationFactor: 0.5
      });
      S.socket = socket;
      socket.on("connect", hello);
      socket.on("disconnect", function (reason) {
        S.helloDone = false;
        S.inflight = {};
        indicator();
        if (reason === "io server disconnect") {
          window.setTimeout(function () { socket.connect(); }, 2000);
        }
      });
      socket.on("connect_error", function (err) {
        indicator();
        var data = err && err.data;
        if (data && (data.error === "logged_out" || data.error === "not_enrolled")) {
          loggedOut(data.message);
        } else if (data && data.error) {
          notice(data.message || "");
          if (!socket.active) { window.setTimeout(function () { socket.connect(); }, 5000); }
        }
      });
      socket.on("started", function (msg) { started(msg.key, msg.deadline, msg.now); });
      socket.on("time", function (msg) {
        syncClock(msg.now);
        if (msg.deadline) {
          S.deadline = msg.deadline;
          S.timeUp = false;
          lockInputs(blocked());
          if (root.dataset.screen === "paper") { notice(T.time_changed); }
        }
      });
      socket.on("paused", function (msg) { syncClock(msg.now); hold(true, S.locked, msg.at); });
      socket.on("resumed", function (msg) {
        syncClock(msg.now);
        if (msg.deadline) { S.deadline = msg.deadline; S.timeUp = false; }
        hold(false, S.locked, null);
        flush();
      });
      socket.on("locked", function () { hold(S.paused, true, S.pausedAt); });
      socket.on("unlocked", function () { hold(S.paused, false, S.pausedAt); flush(); });
      socket.on("message", function (msg) { proctorMessage(msg.text); });
      socket.on("reopened", function (msg) {
        syncClock(msg.now);
        S.deadline = msg.deadline;
        S.timeUp = false;
        lockInputs(blocked());
        notice(T.reopened);
      });
      socket.on("submitted", function (msg) { finished(msg.by); });
      socket.on("logged_out", function (msg) {
        loggedOut(msg && msg.reason === "refused" ? T.refused_text : undefined);
      });
      socket.on("refused", function (msg) {
        if (window.console) { window.console.warn("server refused a message", msg); }
      });
    });
  }

  function hello() {
    var sentAt = Date.now();
    S.socket.timeout(ACK_TIMEOUT_MS).emit("hello", { v: PROTOCOL }, function (err, ack) {
      if (err) { return; }  // the next connect says hello again
      if (!ack.ok) {
        if (ack.error === "logged_out") { loggedOut(ack.message); }
        return;
      }
      syncClock(ack.now, sentAt);
      S.helloDone = true;
      S.deadline = ack.deadline;
      S.seq = Math.max(S.seq, ack.last_seq || 0);
      (ack.answers || []).forEach(function (row) {
        var q = row[0], local = S.answers[q];
        if (!local || local.s <= row[3]) {
          S.answers[q] = { v: row[1], f: row[2], s: row[3], sent: row[1] };
        }
      });
      if (S.reloaded) {
        S.reloaded = false;
        signal("reload");
      }
      if (ack.state === "submitted") { finished(""); return; }
      if ((ack.state === "running" || ack.state === "paused") && ack.key) {
        started(ack.key, ack.deadline, ack.now);
      } else {
        if (root.dataset.screen !== "waiting") { waitingScreen(); }
        if (S.pendingStart) { sendStart(S.pendingStart); }
      }
      hold(ack.state === "paused", !!ack.locked, ack.paused_at || null);
      flush();
      indicator();
    });
  }

  // -- start -------------------------------------------------------------------------------

  function started(key, deadline, now) {
    S.pendingStart = "";  // started by the proctor or on another kiosk meanwhile
    syncClock(now);
    S.deadline = deadline;
    S.state = "running";
    if (S.paper) {
      // A reconnect: the page is drawn already; redrawing would take the candidate's focus.
      if (root.dataset.screen !== "paper") { examScreen(); } else { paintNav(); indicator(); }
      return;
    }
    fetchPaper().then(function (env) {
      return Paper.decrypt(env, key, S.login.attempt);
    }).then(function (paper) {
      S.paper = paper;
      examScreen();
    }).catch(function (err) {
      if (err && err.loggedOut) { loggedOut(); return; }
      $("waiting-error").textContent = T.decrypt_failed;
      if (window.console) { window.console.error(err); }
    });
  }

  // -- answering ---------------------------------------------------------------------------

  function item() { return S.paper.items[S.current]; }

  function examScreen() {
    var info = S.login.info || {};
    $("bar-exam").textContent = (info.exam && info.exam.title) || S.paper.exam.title;
    var cand = info.candidate || {};
    $("bar-who").textContent = (cand.name || "") + " · " + (cand.number || "") + " · " + T.seat +
      " " + (cand.seat || ds.seat);
    $("count-total").textContent = String(S.paper.items.length);
    drawNav();
    drawQuestion();
    show("paper");
    indicator();
    tick();
  }

  function drawNav() {
    var grid = $("qnav-grid");
    grid.textContent = "";
    S.paper.items.forEach(function (it, i) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "qnav-item";
      b.textContent = String(it.n);
      b.dataset.n = String(it.n);
      b.addEventListener("click", function () { go(i); });
      grid.appendChild(b);
    });
    paintNav();
  }

  function paintNav() {
    var answered = 0, flagged = 0;
    S.paper.items.forEach(function (it, i) {
      var a = S.answers[it.n];
      var isAnswered = !!a && Paper.answered(a.v);
      var isFlagged = !!a && a.f;
      if (isAnswered) { answered += 1; }
      if (isFlagged) { flagged += 1; }
      var b = document.querySelector('#qnav-grid .qnav-item[data-n="' + it.n + '"]');
      if (!b) { return; }
      b.classList.toggle("answered", isAnswered);
      b.classList.toggle("flagged", isFlagged);
      b.classList.toggle("current", i === S.current);
      b.classList.toggle("unsaved", !!a && pendingFor(it.n));
      b.setAttribute("aria-current", i === S.current ? "true" : "false");
    });
    $("count-answered").textContent = String(answered);
    $("count-flagged").textContent = String(flagged);
    return answered;
  }

  function pendingFor(n) {
    return Object.keys(S.pending).some(function (s) { return S.pending[s].q === n; });
  }

  function drawQuestion() {
    var it = item();
    var a = S.answers[it.n];
    $("question-label").textContent = fmt(T.question, { n: it.n, total: S.paper.items.length });
    $("question-points").textContent = it.points ? "(" + fmt(T.points, { n: it.points }) + ")" : "";
    var section = S.paper.sections && S.paper.sections[it.s];
    var showSection = S.paper.sections && S.paper.sections.length > 1 && section && section.title;
    $("section-title").hidden = !showSection;
    $("section-title").textContent = showSection ? section.title : "";
    var box = $("question");
    box.textContent = "";
    box.appendChild(Paper.render(it, a ? a.v : null, T, function (value, immediate) {
      change(it.n, value, immediate);
    }));
    var flagged = !!a && a.f;
    $("flag").setAttribute("aria-pressed", flagged ? "true" : "false");
    $("flag").textContent = flagged ? T.unflag : T.flag;
    $("prev").disabled = S.current === 0;
    $("next").disabled = S.current === S.paper.items.length - 1;
    lockInputs(blocked());
    paintNav();
  }

  function go(i) {
    if (i < 0 || i >= S.paper.items.length) { return; }
    flushText();
    S.current = i;
    drawQuestion();
    $("question").focus();
  }

  $("prev").addEventListener("click", function () { go(S.current - 1); });
  $("next").addEventListener("click", function () { go(S.current + 1); });
  $("flag").addEventListener("click", function () {
    var it = item();
    var a = S.answers[it.n];
    record(it.n, a ? a.v : null, !(a && a.f));
    drawQuestion();
  });

  /* Typing is sent when it pauses (and when the candidate leaves the field or the item),
   * not on every keystroke; choices are sent at once. */
  function change(n, value, immediate) {
    if (S.timeUp) { return; }
    var a = S.answers[n];
    if (!immediate) {
      if (S.textTimers[n]) { window.clearTimeout(S.textTimers[n]); }
      S.textTimers[n] = window.setTimeout(function () {
        delete S.textTimers[n];
        change(n, value, true);
      }, TEXT_DEBOUNCE_MS);
      S.answers[n] = { v: value, f: a ? a.f : false, s: a ? a.s : 0, sent: a ? a.sent : null };
      paintNav();
      return;
    }
    if (S.textTimers[n]) { window.clearTimeout(S.textTimers[n]); delete S.textTimers[n]; }
    if (same(a ? a.sent : null, value)) {
      if (a) { a.v = a.sent; }  // typed and undone: nothing to send
      return;
    }
    record(n, value, a ? a.f : false);
  }

  /* Two answers that mean the same: empty text, no choice and an empty list are one. */
  function same(x, y) {
    var ex = !Paper.answered(x), ey = !Paper.answered(y);
    if (ex || ey) { return ex && ey; }
    return JSON.stringify(x) === JSON.stringify(y);
  }

  function flushText() {
    var field = document.querySelector("#question .cbt-answer-line, #question .cbt-essay");
    if (field) { field.dispatchEvent(new Event("change")); }
  }

  function record(n, value, flagged) {
    S.seq += 1;
    var msg = { a: S.login.attempt, s: S.seq, q: n, v: value, f: !!flagged };
    S.answers[n] = { v: value, f: !!flagged, s: msg.s, sent: value };
    S.pending[msg.s] = msg;
    indicator();
    paintNav();
    Store.put(msg).catch(function () { /* kept in memory; sent all the same */ }).then(function () {
      send(msg);
    });
  }

  function send(msg) {
    var socket = S.socket;
    if (!socket || !socket.connected || !S.helloDone || S.inflight[msg.s]) { return; }
    if (Object.keys(S.inflight).length >= WINDOW) { return; }
    S.inflight[msg.s] = true;
    socket.timeout(ACK_TIMEOUT_MS).emit("answer", msg, function (err, ack) {
      delete S.inflight[msg.s];
      if (err) { window.setTimeout(flush, 1000); indicator(); return; }
      if (ack.ok) {
        acknowledged(msg);
      } else if (ack.error === "rate_limited" || ack.error === "unavailable" ||
                 ack.error === "not_signed_in") {
        window.setTimeout(flush, ack.retry_ms || 1500);
      } else if (ack.error === "paused" || ack.error === "locked") {
        // Kept, and sent again when the proctor resumes or unlocks.
        hold(ack.error === "paused" || S.paused, ack.error === "locked" || S.locked, S.pausedAt);
        indicator();
        return;
      } else if (ack.error === "logged_out") {
        loggedOut(ack.message);
        return;
      } else {
        // Refused for good (late, submitted, invalid): it can never be stored. Say so, and
        // stop sending it.
        forget(msg);
        notice(ack.message || "");
        if (ack.error === "submitted") { finished(""); }
      }
      flush();
      indicator();
    });
  }

  function acknowledged(msg) {
    forget(msg);
    paintNav();
  }

  function forget(msg) {
    delete S.pending[msg.s];
    Store.remove(msg.a, msg.s).catch(function () { /* gone with the page anyway */ });
  }

  function flush() {
    if (!S.socket || !S.socket.connected || !S.helloDone) { return; }
    Object.keys(S.pending).map(Number).sort(function (x, y) { return x - y; })
      .forEach(function (s) { send(S.pending[s]); });
  }

  function indicator() {
    var state, text;
    var waiting = Object.keys(S.pending).length;
    if (!S.socket || !S.socket.connected) {
      state = "offline";
      text = T.offline;
      if (waiting) { text += " · " + fmt(T.unsaved, { n: waiting }); }
    } else if (waiting) {
      state = "saving";
      text = T.saving;
    } else {
      state = "saved";
      text = T.saved;
    }
    document.querySelectorAll(".save-state").forEach(function (box) {
      box.dataset.state = state;
      box.querySelector(".save-text").textContent = text;
    });
    var wait = $("confirm-wait");
    if (wait) {
      wait.hidden = waiting === 0;
      $("confirm-yes").disabled = waiting > 0 || !(S.socket && S.socket.connected);
    }
  }

  function notice(text) { $("exam-notice").textContent = text || ""; }

  // -- the clock ---------------------------------------------------------------------------

  /* The proctor's hold: paused (the clock stops) and/or locked (the clock runs on). While
   * held, the inputs are disabled and an overlay says why; answers kept stay in the
   * outbox and go out when the hold ends. */
  function hold(paused, locked, pausedAt) {
    S.paused = !!paused;
    S.pausedAt = paused ? (pausedAt || serverNow()) : null;
    S.locked = !!locked;
    var box = $("hold");
    var kind = S.locked ? "locked" : S.paused ? "paused" : "";
    box.dataset.kind = kind;
    box.hidden = !kind;
    root.dataset.hold = kind;
    if (kind) {
      $("hold-title").textContent = kind === "locked" ? T.locked_title : T.paused_title;
      $("hold-text").textContent = kind === "locked" ? T.locked_text : T.paused_text;
    }
    lockInputs(blocked());
    tick();
  }

  function blocked() { return S.timeUp || S.paused || S.locked; }

  function proctorMessage(text) {
    $("message-text").textContent = text || "";
    $("message").hidden = false;
    $("message-close").focus();
  }
  $("message-close").addEventListener("click", function () { $("message").hidden = true; });

  function lockInputs(locked) {
    document.querySelectorAll("#question input, #question textarea, #question select")
      .forEach(function (input) { input.disabled = locked; });
    $("flag").disabled = locked;
  }

  function tick() {
    if (S.deadline === null || S.deadline === undefined) { return; }
    var left = Math.max(0, S.deadline - (S.paused && S.pausedAt ? S.pausedAt : serverNow()));
    var total = Math.ceil(left / 1000);
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var text = (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
    var clock = $("countdown");
    clock.textContent = text;
    clock.dataset.low = total <= 300 ? "1" : "0";
    $("hold-clock").textContent = S.paused ? text : "";
    if (left <= 0 && !S.timeUp && root.dataset.screen === "paper") {
      flushText();  // what was typed until the last moment is sent (the server allows 2 s)
      S.timeUp = true;
      lockInputs(true);
      notice(T.time_up);
    }
  }
  window.setInterval(tick, 250);

  window.setInterval(function () {
    if (!S.socket || !S.socket.connected) { return; }
    var sentAt = Date.now();
    S.socket.timeout(ACK_TIMEOUT_MS).emit("time", { t: sentAt }, function (err, ack) {
      if (err || !ack.ok) {
        if (!err && ack.error === "logged_out") { loggedOut(ack.message); }
        return;
      }
      syncClock(ack.now, sentAt);
      if (ack.deadline) { S.deadline = ack.deadline; }
      if (ack.state === "submitted") { finished(""); return; }
      // A missed event (a reconnect in between) is caught here, at the latest.
      if ((ack.state === "paused") !== S.paused || !!ack.locked !== S.locked) {
        hold(ack.state === "paused", !!ack.locked, S.pausedAt);
      }
    });
  }, SYNC_EVERY_MS);

  // -- submit ------------------------------------------------------------------------------

  $("submit-open").addEventListener("click", function () {
    flushText();
    var answered = paintNav();
    var missing = S.paper.items.length - answered;
    $("confirm-unanswered").textContent = missing > 0 ? fmt(T.submit_unanswered, { n: missing }) : "";
    $("confirm").hidden = false;
    indicator();
  });
  $("confirm-no").addEventListener("click", function () { $("confirm").hidden = true; });
  $("confirm-yes").addEventListener("click", function () {
    if (Object.keys(S.pending).length || !S.socket || !S.socket.connected) { indicator(); return; }
    $("confirm-yes").disabled = true;
    S.socket.timeout(ACK_TIMEOUT_MS).emit("submit", { s: S.seq }, function (err, ack) {
      $("confirm-yes").disabled = false;
      if (err) { notice(T.network); return; }
      if (!ack.ok) { notice(ack.message || ""); return; }
      finished("candidate", ack.answered);
    });
  });

  function finished(by, answered) {
    $("confirm").hidden = true;
    var info = (S.login && S.login.info) || {};
    var total = S.paper ? S.paper.items.length : ((info.exam && info.exam.items) || 0);
    var count = answered;
    if (count === undefined) {
      count = Object.keys(S.answers).filter(function (q) { return Paper.answered(S.answers[q].v); }).length;
    }
    $("done-reason").textContent = by === "deadline" ? T.submitted_deadline :
      by === "proctor" ? T.submitted_proctor : "";
    $("done-count").textContent = fmt(T.answered_count, { n: count, total: total });
    show("done");
    end();
  }

  function loggedOut(message) {
    $("out-text").textContent = message || T.logged_out_text;
    show("out");
    end();
  }

  /* Forget the attempt on this kiosk: the next candidate signs in to a clean page. */
  function end() {
    var attempt = S.login && S.login.attempt;
    if (S.socket) { S.socket.disconnect(); S.socket = null; }
    if (attempt) { Store.clear(attempt).catch(function () { /* nothing kept */ }); }
    dropLogin();
    S.paper = null;
    S.envelope = null;
    S.answers = {};
    S.pending = {};
    S.inflight = {};
    S.seq = 0;
    S.deadline = null;
    S.timeUp = false;
    hold(false, false, null);
  }

  $("done-finish").addEventListener("click", function () { window.location.reload(); });
  $("out-finish").addEventListener("click", function () { window.location.reload(); });

  // -- the network -------------------------------------------------------------------------

  /* The browser knows at once when the PC loses its network (cable out, Wi-Fi gone): stop
   * the socket then rather than wait for its ping to time out, and come back when it
   * returns. Changes made meanwhile wait in the outbox. */
  window.addEventListener("offline", function () {
    if (S.socket && S.socket.connected) { S.offline = true; S.socket.disconnect(); }
    indicator();
  });
  window.addEventListener("online", function () {
    if (S.socket && S.offline) { S.offline = false; S.socket.connect(); }
  });

  // -- integrity signals -------------------------------------------------------------------

  function signal(kind, detail) {
    if (!S.socket || !S.socket.connected || !S.helloDone) { return; }
    S.socket.emit("signal", { k: kind, n: 1, d: detail || "" });
  }

  var wasFullscreen = false;
  document.addEventListener("fullscreenchange", function () {
    if (document.fullscreenElement) { wasFullscreen = true; return; }
    if (wasFullscreen) { signal("fullscreen_exit"); }
  });
  window.addEventListener("blur", function () { signal("focus_lost"); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { signal("focus_lost", "hidden"); }
  });
  ["copy", "cut", "paste"].forEach(function (kind) {
    document.addEventListener(kind, function (ev) { ev.preventDefault(); signal(kind); });
  });
  document.addEventListener("contextmenu", function (ev) { ev.preventDefault(); signal("contextmenu"); });
  document.addEventListener("click", function () {
    var el = document.documentElement;
    if (!document.fullscreenElement && el.requestFullscreen) {
      el.requestFullscreen().catch(function () { /* a kiosk browser is full screen already */ });
    }
  }, { once: true });

  // -- boot --------------------------------------------------------------------------------

  function begin() {
    waitingScreen();
    Store.list(S.login.attempt).then(function (kept) {
      kept.forEach(function (msg) {
        S.pending[msg.s] = msg;
        S.seq = Math.max(S.seq, msg.s);
        var a = S.answers[msg.q];
        if (!a || a.s < msg.s) { S.answers[msg.q] = { v: msg.v, f: msg.f, s: msg.s, sent: msg.v }; }
      });
    }).catch(function () { /* an empty outbox */ }).then(function () {
      return fetchPaper();
    }).then(function () {
      connect();
    }).catch(function (err) {
      if (err && err.loggedOut) { dropLogin(); signinScreen(); return; }
      $("waiting-error").textContent = T.network;
      window.setTimeout(begin, 3000);
    });
  }

  if (!secure()) { insecure(); return; }
  S.login = loadLogin();
  if (S.login && S.login.attempt && S.login.secret) {
    S.reloaded = true;
    begin();
  } else {
    signinScreen();
  }
}());
