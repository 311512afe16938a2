/* The incident report form: posted normally when online; queued (with its photos) when offline and
   sent through the same sync as scans. The id is made here so a double submit files one report. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var Q = window.PatrolQueue, status = document.getElementById("report-status");
  document.getElementById("report-id").value = Q.uuid();
  function flush() {
    if (!navigator.onLine) return;
    Q.sync(form.dataset.sync).then(function (res) {
      if (res.sent) status.textContent = res.rejected.length ? "Not accepted: " + res.rejected[0].reason : "Queued reports sent.";
    }).catch(function () {});
  }
  form.addEventListener("submit", function (ev) {
    if (navigator.onLine) return;
    ev.preventDefault();
    var f = new FormData(form), files = document.getElementById("photos").files;
    var when = f.get("when"), local = new Date(when);
    var op = { type: "report", id: f.get("id"), site: f.get("site"), category: f.get("category"),
               severity: f.get("severity"), what: f.get("what"), where: f.get("where"), who: f.get("who"),
               actions: f.get("actions"), when: isNaN(local) ? when : local.toISOString(), photos: [] };
    Promise.all(Array.prototype.map.call(files, Q.fileToBase64)).then(function (data) {
      op.photos = data; return Q.add(op);
    }).then(function () {
      status.textContent = "Saved on this phone; it will be sent when the network is back.";
      form.reset(); document.getElementById("report-id").value = Q.uuid();
    });
  });
  window.addEventListener("online", flush);
  flush();
})();
