/* The guard's offline queue: operations wait in IndexedDB (photos included, which localStorage
   could not hold) and go to POST /api/v1/patrols/sync in order. Each carries a client-generated id,
   so sending a batch twice (the answer was lost) changes nothing on the server. */
(function () {
  "use strict";
  var DB = "linewatch-patrol", STORE = "queue";

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), out = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)); b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  function add(item) { return tx("readwrite", function (s) { return s.add(item); }); }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function remove(seqs) { return tx("readwrite", function (s) { seqs.forEach(function (k) { s.delete(k); }); }); }

  var syncing = null;
  /* Send what waits, a few at a time (photos are large). Resolves with {sent, rejected: [...]} */
  function sync(url) {
    if (syncing) return syncing;
    syncing = all().then(function (items) {
      var rejected = [], sent = 0;
      function next(i) {
        if (i >= items.length || !navigator.onLine) return Promise.resolve();
        // up to 10 operations and about 8 MB per request (the server takes 32 MB; photos are large)
        var batch = [], size = 0;
        while (i + batch.length < items.length && batch.length < 10) {
          var n = JSON.stringify(items[i + batch.length].op).length;
          if (batch.length && size + n > 8e6) break;
          batch.push(items[i + batch.length]); size += n;
        }
        return fetch(url, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
          body: JSON.stringify({ items: batch.map(function (x) { return x.op; }) })
        }).then(function (r) {
          // 400/413/422: the request itself is unreadable, so retrying cannot help: report it and move on.
          // Anything else that is not OK (signed out, server down) keeps the queue for the next try.
          if (r.status === 400 || r.status === 413 || r.status === 422) {
            return r.text().then(function (text) {
              return { results: batch.map(function () { return { status: "rejected", reason: "HTTP " + r.status + ": " + text.slice(0, 200) }; }) };
            });
          }
          if (!r.ok) throw new Error("server answered " + r.status);
          return r.json();
        }).then(function (answer) {
          answer.results.forEach(function (res, k) {
            if (res.status === "rejected") rejected.push({ op: batch[k].op, reason: res.reason });
          });
          sent += batch.length;
          return remove(batch.map(function (x) { return x.seq; })).then(function () { return next(i + batch.length); });
        });
      }
      return next(0).then(function () { return { sent: sent, rejected: rejected }; });
    }).finally(function () { syncing = null; });
    return syncing;
  }
  function fileToBase64(file) {
    return new Promise(function (resolve, reject) {
      var r = new FileReader();
      r.onload = function () { resolve(String(r.result).split(",", 2)[1]); };
      r.onerror = function () { reject(r.error); };
      r.readAsDataURL(file);
    });
  }
  window.PatrolQueue = { add: function (op) { return add({ op: op }); }, all: all, sync: sync, uuid: uuid,
                         fileToBase64: fileToBase64 };
})();
