// The observation form offline (docs/practice.md): a submitted form is kept on the phone under its
// id (made by the server with the page, so a resend is the same observation) and sent to
// /coach/observations.json when there is a network; the server stores each id once.
(function () {
  "use strict";
  var KEY = "ustaz-observations";
  var form = document.getElementById("observation");
  var status = document.getElementById("queue");
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "{}"); } catch (e) { return {}; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); show(q); }
  function show(q) {
    var n = Object.keys(q).length;
    if (status) { status.textContent = n ? n + " ⟳" : ""; status.dataset.queued = String(n); }
  }
  function collect() {
    var data = {}, fields = new FormData(form);
    fields.forEach(function (v, k) { data[k] = String(v); });
    return data;
  }
  var busy = false;
  function flush() {
    var q = load(), ids = Object.keys(q);
    if (busy || !ids.length || !navigator.onLine) { return; }
    busy = true;
    fetch(form.dataset.observeSync, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(ids.map(function (id) { return q[id]; }))
    }).then(function (r) {
      // 200: stored (or already stored); 400/403/409/422: the server will never store these as they are
      if (r.ok || [400, 403, 409, 422].indexOf(r.status) >= 0) {
        var now = load();
        ids.forEach(function (id) { delete now[id]; });
        save(now);
        if (status && r.ok) { status.dataset.synced = "1"; }
      }
    }).catch(function () { /* offline: kept for later */ }).then(function () { busy = false; });
  }
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var item = collect(), q = load();
      q[item.id] = item;
      save(q);
      form.reset();
      form.querySelector("[name=id]").value = (crypto.randomUUID ? crypto.randomUUID() : item.id);
      flush();
    });
  }
  window.addEventListener("online", flush);
  show(load());
  flush();
})();
