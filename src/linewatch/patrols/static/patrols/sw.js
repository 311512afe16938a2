/* Linewatch patrol service worker (scope /patrol/): keeps the guard page and its scripts on the phone so
   the page opens without a network. Pages: network first, the cached copy when offline. Scripts and
   styles: cache first. API calls are never cached — the queue (queue.js) handles them. */
var CACHE = "linewatch-patrol-v1";
var SHELL = ["/patrol/", "/patrol/report/", "/static/patrols/queue.js", "/static/patrols/patrol.js",
             "/static/patrols/report.js", "/static/patrols/patrol.css", "/static/linewatch/linewatch.css"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).catch(function () {}));
  self.skipWaiting();
});
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }));
  self.clients.claim();
});
self.addEventListener("fetch", function (event) {
  var req = event.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== location.origin || url.pathname.indexOf("/api/") === 0) return;
  if (req.mode === "navigate") {
    event.respondWith(fetch(req).then(function (res) {
      if (res.ok && !res.redirected) {
        var copy = res.clone();
        caches.open(CACHE).then(function (c) { c.put(url.pathname.indexOf("/patrol/nfc/") === 0 ? "/patrol/" : req, copy); });
      }
      return res;
    }).catch(function () {
      return caches.match(req).then(function (hit) { return hit || caches.match("/patrol/"); });
    }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(req).then(function (hit) {
      return hit || fetch(req).then(function (res) {
        var copy = res.clone(); caches.open(CACHE).then(function (c) { c.put(req, copy); }); return res;
      });
    }));
  }
});
