/* The kiosk's outbox: answers not yet acknowledged by the server, kept in IndexedDB.
 *
 * Every change is written here before it is sent, and removed only when the server's
 * acknowledgement arrives, so a change survives a lost connection, a page reload and a
 * browser restart. Records are keyed by [attempt, seq]; list() returns them in seq order.
 * Where IndexedDB is unavailable the outbox lives in memory (and says so).
 */
(function () {
  "use strict";

  var DB_NAME = "ruang-exam";
  var STORE = "outbox";
  var memory = {};
  var opening = null;

  function open() {
    if (opening) { return opening; }
    opening = new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(null); return; }
      var req;
      try { req = window.indexedDB.open(DB_NAME, 1); } catch (e) { resolve(null); return; }
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains(STORE)) {
          var os = db.createObjectStore(STORE, { keyPath: ["a", "s"] });
          os.createIndex("by_attempt", "a");
        }
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { resolve(null); };
      req.onblocked = function () { resolve(null); };
    });
    return opening;
  }

  function tx(mode, work) {
    return open().then(function (db) {
      if (!db) { return work(null); }
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result;
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
        result = work(t.objectStore(STORE));
      });
    });
  }

  function memKey(a, s) { return a + ":" + s; }

  window.RuangStore = {
    persistent: function () { return open().then(function (db) { return !!db; }); },
    put: function (msg) {
      return tx("readwrite", function (os) {
        if (!os) { memory[memKey(msg.a, msg.s)] = msg; return; }
        os.put(msg);
      });
    },
    remove: function (a, s) {
      return tx("readwrite", function (os) {
        if (!os) { delete memory[memKey(a, s)]; return; }
        os.delete([a, s]);
      });
    },
    list: function (a) {
      return open().then(function (db) {
        if (!db) {
          return Object.keys(memory).map(function (k) { return memory[k]; })
            .filter(function (m) { return m.a === a; })
            .sort(function (x, y) { return x.s - y.s; });
        }
        return new Promise(function (resolve, reject) {
          var t = db.transaction(STORE, "readonly");
          var req = t.objectStore(STORE).index("by_attempt").getAll(a);
          req.onsuccess = function () {
            resolve((req.result || []).sort(function (x, y) { return x.s - y.s; }));
          };
          req.onerror = function () { reject(req.error); };
        });
      });
    },
    clear: function (a) {
      return this.list(a).then(function (items) {
        return tx("readwrite", function (os) {
          items.forEach(function (m) {
            if (!os) { delete memory[memKey(m.a, m.s)]; } else { os.delete([m.a, m.s]); }
          });
        });
      });
    }
  };
}());
