/* The guard page: start a tour, record scans (typed code, QR token or NFC tag URL) with position,
   photo and note, finish — every step queued (queue.js) and synced when online. */
(function () {
  "use strict";
  var app = document.getElementById("patrol-app");
  if (!app) return;
  var Q = window.PatrolQueue, syncUrl = app.dataset.sync;
  var tours = JSON.parse(document.getElementById("patrol-tours").textContent || "[]");
  var nfc = JSON.parse(document.getElementById("patrol-nfc").textContent || "null");
  var state = JSON.parse(localStorage.getItem("lw-patrol-run") || "null");
  var $ = function (id) { return document.getElementById(id); };

  if (tours.length) localStorage.setItem("lw-patrol-tours", JSON.stringify(tours));
  else tours = JSON.parse(localStorage.getItem("lw-patrol-tours") || "[]");

  function save() { localStorage.setItem("lw-patrol-run", JSON.stringify(state)); }
  function tourOf(key) { return tours.filter(function (t) { return t.site + "/" + t.tour === key; })[0]; }

  function render() {
    var online = navigator.onLine;
    $("net").textContent = online ? "Online" : "Offline — scans wait on this phone";
    $("net").className = "loud " + (online ? "loud-ok" : "loud-warn");
    var t = state && tourOf(state.key);
    $("running").textContent = t ? "On tour: " + t.name + " since " + new Date(state.started).toLocaleTimeString() : "No tour started.";
    var list = $("stops"); list.innerHTML = "";
    (t ? t.stops : []).forEach(function (s) {
      var li = document.createElement("li");
      var done = state.scanned && state.scanned.indexOf(s.code) >= 0;
      li.textContent = s.name + " (" + s.code + ")" + (done ? " ✓" : "");
      if (done) li.className = "done";
      list.appendChild(li);
    });
    Q.all().then(function (items) {
      $("queue").textContent = items.length ? items.length + " waiting to sync." : "Nothing waiting to sync.";
    });
  }

  function sync() {
    if (!navigator.onLine) { render(); return Promise.resolve(); }
    return Q.sync(syncUrl).then(function (res) {
      app.dataset.sent = String(Number(app.dataset.sent || 0) + res.sent);  // for people and tests watching
      res.rejected.forEach(function (r) {
        var li = document.createElement("li"); li.className = "warn-inline";
        li.textContent = "Not accepted (" + r.op.type + "): " + r.reason;
        $("rejected").appendChild(li);
      });
      render();
    }).catch(function () { render(); });
  }

  function position() {
    if (!$("use-gps").checked || !navigator.geolocation) return Promise.resolve(null);
    return new Promise(function (resolve) {
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy });
      }, function () { resolve(null); }, { enableHighAccuracy: true, timeout: 8000, maximumAge: 10000 });
    });
  }

  function start() {
    var key = $("tour").value;
    if (!key) return Promise.resolve();
    var t = tourOf(key);
    state = { key: key, run: Q.uuid(), started: new Date().toISOString(), scanned: [] };
    save();
    return Q.add({ type: "run", id: state.run, site: t.site, tour: t.tour, at: state.started }).then(function () {
      render(); return sync();
    });
  }

  function recordScan(payload, method) {
    if (!state) { $("last").textContent = "Start a tour first."; return Promise.resolve(); }
    var file = $("photo").files[0], note = $("note").value, scanId = Q.uuid(), at = new Date().toISOString();
    return position().then(function (pos) {
      var op = { type: "scan", id: scanId, run: state.run, method: method, payload: payload, at: at, note: note };
      if (pos) { op.lat = pos.lat; op.lon = pos.lon; op.accuracy = pos.accuracy; }
      return Q.add(op);
    }).then(function () {
      if (!file) return null;
      return Q.fileToBase64(file).then(function (data) {
        return Q.add({ type: "photo", id: Q.uuid(), run: state.run, scan: scanId, data: data });
      });
    }).then(function () {
      var code = payload.indexOf("LWCP1.") === 0 ? payload.split(".")[2] : payload.split(/[\s/?]/).filter(Boolean)[0];
      if (method === "nfc" && nfc) code = nfc.code;
      state.scanned.push(code); save();
      $("last").textContent = "Recorded " + code + " at " + new Date(at).toLocaleTimeString() + (navigator.onLine ? "" : " (will sync)");
      $("code").value = ""; $("note").value = ""; $("photo").value = "";
      render(); return sync();
    });
  }

  $("start").addEventListener("click", start);
  $("scan-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("code").value.trim();
    if (!text) { $("last").textContent = "Type the code under the checkpoint's QR sticker."; return; }
    recordScan(text, text.indexOf("LWCP1.") === 0 ? "qr" : "manual");
  });
  $("finish").addEventListener("click", function () {
    if (!state) return;
    Q.add({ type: "finish", id: Q.uuid(), run: state.run }).then(function () {
      state = null; localStorage.removeItem("lw-patrol-run"); render(); return sync();
    });
  });
  $("sync-now").addEventListener("click", sync);
  window.addEventListener("online", sync);
  window.addEventListener("offline", render);
  setInterval(sync, 20000);

  if (nfc && state) recordScan(nfc.url, "nfc");
  else if (nfc) $("last").textContent = "Tag read: start the tour first, then tap again.";
  if (state && state.key) $("tour").value = state.key;
  if ("serviceWorker" in navigator && app.dataset.sw) {
    navigator.serviceWorker.register(app.dataset.sw, { scope: "/patrol/" }).catch(function () {});
  }
  render(); sync();
})();
