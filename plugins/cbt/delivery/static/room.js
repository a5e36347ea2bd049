/* The proctor's exam room: a live seat map over the /proctor socket, filters, a list view,
 * and the proctor's actions (each with a reason) posted to the room's actions URL.
 *
 * The server sends one `snapshot` on connect and then `seats` batches with only the seats
 * that changed (at most one per half second). Seats are keyed by candidate id (`c`); see
 * plugins/cbt/delivery/seatmap.py for the short keys. Drawing is throttled to one animation
 * frame, and countdowns are recomputed once a second from each seat's deadline.
 */
(function () {
  "use strict";
  var root = document.getElementById("room");
  if (!root) { return; }
  var ds = root.dataset;
  var LABELS = JSON.parse(document.getElementById("room-labels").textContent || "{}");
  var T = JSON.parse(document.getElementById("room-texts").textContent || "{}");
  var STALE_MS = 90000;   // no heartbeat this long: offline, whatever the socket flag says
  var WARN_KINDS = ["focus_lost", "fullscreen_exit", "reload", "seb_failed", "other"];
  var WARN_SHORT = { focus_lost: "F", fullscreen_exit: "S", reload: "R", seb_failed: "SEB", other: "!" };

  var seats = {};        // candidate id -> seat row
  var offset = 0;        // server time - local time
  var view = "grid";
  var selected = null;   // candidate id in the panel
  var drawPending = false;
  var current = null;    // the action being confirmed {act, attempt}

  function $(id) { return document.getElementById(id); }
  function now() { return Date.now() + offset; }

  // -- what a seat shows ------------------------------------------------------------------

  function online(s) { return !!s.on && s.hb !== null && now() - s.hb < STALE_MS; }

  function shownState(s) {
    if (s.lk && s.s !== "submitted") { return "locked"; }
    return s.s;
  }

  function remaining(s) {
    if (s.dl === null || s.dl === undefined || s.s === "submitted" || s.s === "absent") { return null; }
    if (s.s === "ready" || (s.s === "signed_out" && !s.pa && s.dl === null)) { return null; }
    var at = s.pa ? s.pa : now();
    return Math.max(0, Math.round((s.dl - at) / 1000));
  }

  function clock(sec) {
    if (sec === null) { return ""; }
    var h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), x = sec % 60;
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (x < 10 ? "0" : "") + x;
  }

  function warnTotal(s) {
    var n = 0;
    Object.keys(s.w || {}).forEach(function (k) { n += s.w[k]; });
    return n;
  }

  function warnTitle(s) {
    return WARN_KINDS.filter(function (k) { return s.w && s.w[k]; })
      .map(function (k) { return T[k] + ": " + s.w[k]; }).join("\n");
  }

  // -- filtering ---------------------------------------------------------------------------

  function matches(s) {
    var st = $("filter-state").value;
    if (st === "late" && !s.late) { return false; }
    if (st === "offline" && (online(s) || s.s === "absent" || s.s === "submitted")) { return false; }
    if (st && st !== "late" && st !== "offline" && shownState(s) !== st) { return false; }
    if ($("filter-warn").checked && !warnTotal(s)) { return false; }
    var q = $("filter-text").value.trim().toLowerCase();
    if (q && (s.n + " " + s.nm + " " + s.st).toLowerCase().indexOf(q) < 0) { return false; }
    return true;
  }

  function bySeat(a, b) {
    var x = a.st || "~", y = b.st || "~";
    var nx = x.match(/^([A-Za-z]*)(\d*)/), ny = y.match(/^([A-Za-z]*)(\d*)/);
    if (nx[1] !== ny[1]) { return nx[1] < ny[1] ? -1 : 1; }
    var dx = parseInt(nx[2] || "0", 10), dy = parseInt(ny[2] || "0", 10);
    if (dx !== dy) { return dx - dy; }
    return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
  }

  // -- drawing -----------------------------------------------------------------------------

  function schedule() {
    if (drawPending) { return; }
    drawPending = true;
    window.requestAnimationFrame(function () { drawPending = false; draw(); });
  }

  function tile(s) {
    var el = document.getElementById("seat-" + s.c);
    if (!el) {
      el = document.createElement("button");
      el.type = "button";
      el.id = "seat-" + s.c;
      el.className = "seat";
      el.innerHTML = '<span class="seat-label"></span><span class="seat-dot"></span>' +
        '<span class="seat-number"></span><span class="seat-name"></span>' +
        '<span class="seat-counts"></span><span class="seat-time"></span><span class="seat-badges"></span>';
      el.addEventListener("click", function () { openPanel(s.c); });
    }
    var state = shownState(s);
    el.dataset.state = state;
    el.dataset.c = String(s.c);
    el.dataset.attempt = s.a ? String(s.a) : "";
    el.dataset.online = online(s) ? "1" : "0";
    el.dataset.late = s.late ? "1" : "0";
    el.dataset.warn = warnTotal(s) ? "1" : "0";
    el.querySelector(".seat-label").textContent = s.st || "–";
    el.querySelector(".seat-dot").title = online(s) ? T.online : T.offline;
    el.querySelector(".seat-number").textContent = s.n;
    el.querySelector(".seat-name").textContent = s.nm;
    el.querySelector(".seat-counts").textContent = s.a ? s.q + "/" + s.t + (s.f ? " · " + s.f + "?" : "") : "";
    el.querySelector(".seat-time").textContent = clock(remaining(s));
    var badges = el.querySelector(".seat-badges");
    badges.textContent = "";
    if (s.ad === "refused" && s.s !== "submitted") { badge(badges, "late", T.refused, T.refused); }
    else if (s.late) { badge(badges, "late", T.late, T.late); }
    WARN_KINDS.forEach(function (k) {
      if (s.w && s.w[k]) { badge(badges, "warn", WARN_SHORT[k] + s.w[k], T[k] + ": " + s.w[k]); }
    });
    el.title = s.n + " · " + s.nm + " · " + (LABELS[state] || state) + (warnTotal(s) ? "\n" + warnTitle(s) : "");
    return el;
  }

  function badge(box, kind, text, title) {
    var b = document.createElement("span");
    b.className = "badge badge-" + kind;
    b.textContent = text;
    b.title = title;
    box.appendChild(b);
  }

  function row(s) {
    var tr = document.getElementById("row-" + s.c);
    if (!tr) {
      tr = document.createElement("tr");
      tr.id = "row-" + s.c;
      for (var i = 0; i < 8; i += 1) { tr.appendChild(document.createElement("td")); }
      tr.children[4].className = tr.children[5].className = tr.children[6].className = "num";
      tr.addEventListener("click", function () { openPanel(s.c); });
    }
    var state = shownState(s);
    tr.dataset.state = state;
    tr.dataset.candidate = s.n;
    tr.dataset.attempt = s.a ? String(s.a) : "";
    var c = tr.children;
    c[0].textContent = s.st || "–";
    c[1].textContent = s.n;
    c[2].textContent = s.nm;
    c[3].textContent = (LABELS[state] || state) + (s.late ? " · " + T.late : "") +
      (s.a && s.s !== "submitted" ? " · " + (online(s) ? T.online : T.offline) : "");
    c[4].textContent = s.a ? s.q + "/" + s.t : "–";
    c[5].textContent = s.a ? String(s.f) : "";
    c[6].textContent = clock(remaining(s));
    c[7].textContent = warnTitle(s).replace(/\n/g, "; ");
    return tr;
  }

  function summarise() {
    var counts = {};
    Object.keys(seats).forEach(function (k) {
      var st = shownState(seats[k]);
      counts[st] = (counts[st] || 0) + 1;
    });
    var summary = $("room-summary");
    summary.textContent = "";
    Object.keys(LABELS).forEach(function (k) {
      if (!counts[k]) { return; }
      var chip = document.createElement("span");
      chip.className = "room-chip";
      chip.dataset.state = k;
      chip.textContent = LABELS[k] + ": " + counts[k];
      summary.appendChild(chip);
    });
  }

  function draw() {
    var all = Object.keys(seats).map(function (k) { return seats[k]; }).sort(bySeat);
    var shown = all.filter(matches);
    summarise();
    $("room-count").textContent = shown.length + " / " + all.length;
    $("room-empty").hidden = shown.length > 0 || all.length === 0;
    var grid = $("seatmap"), body = $("seatlist");
    if (view === "grid") {
      var frag = document.createDocumentFragment();
      shown.forEach(function (s) { frag.appendChild(tile(s)); });
      grid.textContent = "";
      grid.appendChild(frag);
    } else {
      var rows = document.createDocumentFragment();
      shown.forEach(function (s) { rows.appendChild(row(s)); });
      body.textContent = "";
      body.appendChild(rows);
    }
    if (selected !== null && seats[selected]) { fillPanel(seats[selected]); }
  }

  function tickClocks() {
    Object.keys(seats).forEach(function (k) {
      var s = seats[k];
      var text = clock(remaining(s));
      var el = document.getElementById(view === "grid" ? "seat-" + s.c : "row-" + s.c);
      if (!el) { return; }
      if (view === "grid") {
        el.querySelector(".seat-time").textContent = text;
        el.dataset.online = online(s) ? "1" : "0";
      } else { el.children[6].textContent = text; }
    });
  }
  window.setInterval(tickClocks, 1000);

  function setView(v) {
    view = v;
    $("seatmap").hidden = v !== "grid";
    $("seatlist-wrap").hidden = v !== "list";
    $("view-grid").setAttribute("aria-pressed", v === "grid" ? "true" : "false");
    $("view-list").setAttribute("aria-pressed", v === "list" ? "true" : "false");
    schedule();
  }
  $("view-grid").addEventListener("click", function () { setView("grid"); });
  $("view-list").addEventListener("click", function () { setView("list"); });
  ["filter-state", "filter-warn", "filter-text"].forEach(function (id) {
    $(id).addEventListener("input", schedule);
    $(id).addEventListener("change", schedule);
  });

  // -- the panel of one seat ---------------------------------------------------------------

  function actionsFor(s) {
    if (!s.a) { return []; }
    var st = s.s;
    var out = [];
    if (s.late || s.ad === "refused") { out.push("admit"); }
    if (s.late) { out.push("refuse"); }
    if (st === "ready" || st === "running" || st === "paused" || st === "signed_out") { out.push("extend"); }
    if (st === "running") { out.push("pause"); }
    if (st === "paused") { out.push("resume"); }
    if (st !== "submitted") { out.push(s.lk ? "unlock" : "lock"); }
    if (st !== "submitted" && st !== "signed_out") { out.push("reset"); }
    if (st !== "submitted") { out.push("force_submit"); }
    if (st === "submitted") { out.push("reopen"); }
    out.push("message", "incident");
    return out;
  }

  function fact(dl, term, value) {
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = term;
    dd.textContent = value;
    dl.appendChild(dt);
    dl.appendChild(dd);
  }

  function fillPanel(s) {
    $("panel-title").textContent = (s.st ? s.st + " · " : "") + s.n + " · " + s.nm;
    var dl = $("panel-facts");
    dl.textContent = "";
    var state = shownState(s);
    fact(dl, "●", (LABELS[state] || state) + (s.late ? " · " + T.late : "") +
      (s.a && s.s !== "submitted" ? " · " + (online(s) ? T.online : T.offline) : ""));
    if (s.a) {
      fact(dl, "Σ", s.q + "/" + s.t + " " + T.answered + ", " + s.f + " " + T.flagged);
      var left = remaining(s);
      if (left !== null) { fact(dl, "⏱", clock(left) + " " + T.left); }
      WARN_KINDS.forEach(function (k) { if (s.w && s.w[k]) { fact(dl, "!", T[k] + ": " + s.w[k]); } });
    }
    var box = $("panel-actions");
    box.textContent = "";
    actionsFor(s).forEach(function (act) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn small " + (act === "force_submit" || act === "lock" || act === "refuse" ? "danger" : "secondary");
      b.dataset.act = act;
      b.textContent = T["act_" + act];
      b.addEventListener("click", function () { ask(act, s); });
      box.appendChild(b);
    });
  }

  function openPanel(c) {
    selected = c;
    fillPanel(seats[c]);
    $("panel").hidden = false;
  }
  $("panel-close").addEventListener("click", function () { $("panel").hidden = true; selected = null; });

  // -- actions -----------------------------------------------------------------------------

  function ask(act, s) {
    current = { act: act, attempt: s ? s.a : null };
    $("act-title").textContent = T["act_" + act];
    $("act-target").textContent = s ? (s.st ? s.st + " · " : "") + s.n + " · " + s.nm : T.everyone;
    var needsMinutes = act === "extend" || act === "reopen";
    var needsText = act === "message" || act === "incident";
    $("act-minutes-row").hidden = !needsMinutes;
    $("act-minutes-label").textContent = act === "reopen" ? T.reopen_minutes : T.minutes;
    $("act-minutes").min = act === "reopen" ? "1" : "-600";
    $("act-category-row").hidden = act !== "incident";
    $("act-text-row").hidden = !needsText;
    $("act-reason-row").hidden = needsText;
    $("act-reason").value = "";
    $("act-text").value = "";
    $("act-error").textContent = "";
    $("act-dialog").hidden = false;
    (needsText ? $("act-text") : needsMinutes ? $("act-minutes") : $("act-reason")).focus();
  }

  document.querySelectorAll("#room-all [data-act]").forEach(function (b) {
    b.addEventListener("click", function () { ask(b.dataset.act, null); });
  });
  $("act-cancel").addEventListener("click", function () { $("act-dialog").hidden = true; });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { $("act-dialog").hidden = true; }
  });

  $("act-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!current) { return; }
    var act = current.act;
    var body = { action: act, attempt: current.attempt };
    if (act === "message" || act === "incident") {
      body.text = $("act-text").value.trim();
      if (!body.text) { $("act-error").textContent = T.reason_required; return; }
      if (act === "incident") { body.category = $("act-category").value; }
    } else {
      body.reason = $("act-reason").value.trim();
      if (!body.reason) { $("act-error").textContent = T.reason_required; $("act-reason").focus(); return; }
    }
    if (act === "extend" || act === "reopen") { body.minutes = parseInt($("act-minutes").value, 10) || 0; }
    $("act-submit").disabled = true;
    fetch(ds.actionUrl, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": ds.csrf },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return { ok: false, message: T.failed }; });
    }).then(function (data) {
      $("act-submit").disabled = false;
      if (!data.ok) { $("act-error").textContent = data.message || T.failed; return; }
      $("act-dialog").hidden = true;
      $("act-status").textContent = data.message || "";
      if (act === "incident") { addIncident(body); }
    }).catch(function () {
      $("act-submit").disabled = false;
      $("act-error").textContent = T.failed;
    });
  });

  function addIncident(body) {
    var none = $("no-incidents");
    if (none) { none.remove(); }
    var li = document.createElement("li");
    var d = new Date();
    var time = document.createElement("time");
    time.textContent = (d.getHours() < 10 ? "0" : "") + d.getHours() + ":" + (d.getMinutes() < 10 ? "0" : "") + d.getMinutes();
    var cat = document.createElement("strong");
    cat.textContent = T["cat_" + body.category] || body.category;
    li.appendChild(time);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(cat);
    li.appendChild(document.createTextNode(" " + body.text));
    $("incidents").appendChild(li);
  }

  // -- the token ---------------------------------------------------------------------------

  function refreshToken() {
    fetch(ds.tokenUrl, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.token) { $("token").textContent = data.token; } })
      .catch(function () { /* the next refresh tries again */ });
  }
  window.setInterval(refreshToken, 30000);

  // -- the socket --------------------------------------------------------------------------

  function live(on) {
    $("room-live").dataset.live = on ? "1" : "0";
    $("room-live-text").textContent = on ? T.live : T.disconnected;
  }

  function filtering() {
    return !!($("filter-state").value || $("filter-warn").checked || $("filter-text").value.trim());
  }

  /* A delta changes a few seats of a room that may hold a thousand: without a filter (which
   * a change could move a seat in or out of) those seats are redrawn in place. */
  function merge(rows) {
    var known = rows.every(function (s) { return seats[s.c] !== undefined; });
    rows.forEach(function (s) { seats[s.c] = s; });
    if (!known || filtering() || drawPending) { schedule(); return; }
    rows.forEach(function (s) { if (view === "grid") { tile(s); } else { row(s); } });
    summarise();
    if (selected !== null && seats[selected]) { fillPanel(seats[selected]); }
  }

  var socket = window.io(ds.namespace, {
    auth: { session: parseInt(ds.session, 10) },
    transports: ["websocket", "polling"], tryAllTransports: true,
    reconnectionDelay: 500, reconnectionDelayMax: 5000
  });
  socket.on("connect", function () { live(true); });
  socket.on("disconnect", function () { live(false); });
  socket.on("connect_error", function () { live(false); });
  socket.on("snapshot", function (msg) {
    offset = msg.now - Date.now();
    seats = {};
    $("seatmap").textContent = "";
    $("seatlist").textContent = "";
    merge(msg.seats || []);
    root.dataset.ready = "1";
  });
  socket.on("seats", function (msg) {
    offset = msg.now - Date.now();
    merge(msg.seats || []);
  });
  setView("grid");
}());
