/* Ustaz offline queue: learning records (xAPI statements) and quiz answers made offline are kept
 * in IndexedDB and sent when the network returns, with their original ids and timestamps, in
 * batches, retrying with exponential backoff. Protocol: docs/sync.md.
 *
 * Two roles in one file:
 * - in the service worker: importScripts("/static/sw-queue.js") (sw.js does it), then the queue
 *   listens for messages, background-sync and fetch events by itself;
 * - in a page: <script src="/static/sw-queue.js" defer></script> records a view of the element
 *   marked data-xapi-activity (a lesson) by handing the statement to the service worker, or
 *   straight to the server when there is no service worker.
 * Nothing depends on it: every page works without JavaScript.
 */
(function (self) {
  "use strict";
  var ENDPOINT = "/me/statements";
  var VIEWED = "http://adlnet.gov/expapi/verbs/experienced";
  var QUIZ_POST = /^\/courses\/[^/]+\/v\/\d+\/quizzes\/[^/]+$/;

  function uuid() {
    if (self.crypto && self.crypto.randomUUID) return self.crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (self.crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  function viewStatement(activity, name) {
    var statement = {id: uuid(), verb: {id: VIEWED}, object: {id: activity}, timestamp: new Date().toISOString()};
    if (name) statement.object.definition = {name: {und: name}};
    return statement;
  }

  /* ---- page role ------------------------------------------------------------------------- */
  if (typeof self.document !== "undefined") {
    var marked = self.document.querySelector("[data-xapi-activity]");
    if (!marked) return;
    var statement = viewStatement(marked.getAttribute("data-xapi-activity"), marked.getAttribute("data-xapi-name"));
    var sw = self.navigator.serviceWorker;
    if (sw && sw.controller) {
      sw.controller.postMessage({type: "ustaz:statement", statement: statement});
    } else if (self.navigator.onLine !== false) {
      self.fetch(ENDPOINT, {method: "POST", credentials: "same-origin", keepalive: true,
                            headers: {"content-type": "application/json"}, body: JSON.stringify([statement])});
    }
    return;
  }

  /* ---- service-worker role --------------------------------------------------------------- */
  var DB = "ustaz-queue", STATEMENTS = "statements", FORMS = "forms";
  var BATCH = 50, BASE_DELAY = 2000, MAX_DELAY = 5 * 60 * 1000;
  var failures = 0, batchSize = BATCH, timer = null, flushing = null;

  function database() {
    return new Promise(function (resolve, reject) {
      var request = self.indexedDB.open(DB, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STATEMENTS, {keyPath: "id"});
        request.result.createObjectStore(FORMS, {keyPath: "key"});
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(name, mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode), result;
        var request = work(tx.objectStore(name));
        if (request) request.onsuccess = function () { result = request.result; };
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function enqueue(statement) {
    var copy = Object.assign({}, statement);
    copy.id = copy.id || uuid();
    copy.timestamp = copy.timestamp || new Date().toISOString();
    return withStore(STATEMENTS, "readwrite", function (store) { return store.put(copy); })
      .then(function () { schedule(0); return copy.id; });
  }

  function removeStatements(ids) {
    return withStore(STATEMENTS, "readwrite", function (store) { ids.forEach(function (id) { store.delete(id); }); });
  }

  function schedule(delay) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { timer = null; flush(); }, delay);
  }

  function backoff() {
    failures += 1;
    var delay = Math.min(MAX_DELAY, BASE_DELAY * Math.pow(2, failures - 1));
    schedule(delay / 2 + Math.random() * delay / 2);  // jitter: phones coming online together spread out
    return "retry";
  }

  /* The statements named by a 422's errors ("3.verb.id" is the 4th of the batch). */
  function rejected(batch, problem) {
    var ids = {};
    (problem.errors || []).forEach(function (error) {
      var index = parseInt(String(error.field).split(".")[0], 10);
      if (!isNaN(index) && batch[index]) ids[batch[index].id] = true;
    });
    return Object.keys(ids);
  }

  function sendStatements() {
    return withStore(STATEMENTS, "readonly", function (store) { return store.getAll(undefined, batchSize); })
      .then(function (batch) {
        if (!batch || !batch.length) return "empty";
        return self.fetch(ENDPOINT, {method: "POST", credentials: "same-origin",
                                     headers: {"content-type": "application/json"}, body: JSON.stringify(batch)})
          .then(function (response) {
            if (response.ok) return removeStatements(batch.map(function (s) { return s.id; })).then(function () { return "sent"; });
            return response.json().catch(function () { return {}; }).then(function (problem) {
              var ids = problem.ids || [];
              if (response.status === 413 && batchSize > 1) { batchSize = Math.max(1, batchSize >> 1); return "smaller"; }
              // 409: the server holds other content under these ids; 400: repeated ids; 403 with ids:
              // records of another account (signed out and in as someone else). The server's copy stands.
              if ((response.status === 409 || response.status === 400 || response.status === 403) && ids.length) {
                return removeStatements(ids).then(function () { return "dropped"; });
              }
              if (response.status === 422) {
                var bad = rejected(batch, problem);
                if (bad.length) return removeStatements(bad).then(function () { return "dropped"; });
              }
              if (response.status === 401 || response.status === 403) return "signed-out";  // keep; retry after login
              return "failed";
            });
          }, function () { return "failed"; });
      });
  }

  function sendForms() {
    return withStore(FORMS, "readonly", function (store) { return store.getAll(); }).then(function (forms) {
      return (forms || []).reduce(function (previous, form) {
        return previous.then(function (state) {
          if (state !== "sent" && state !== "empty") return state;
          return self.fetch(form.url, {method: "POST", credentials: "same-origin", redirect: "manual",
                                       headers: {"content-type": form.type}, body: form.body})
            .then(function (response) {
              var done = response.type === "opaqueredirect" || response.ok ||
                         (response.status >= 400 && response.status < 500 && response.status !== 401 && response.status !== 429);
              if (!done) return "failed";
              return withStore(FORMS, "readwrite", function (store) { return store.delete(form.key); })
                .then(function () { return "sent"; });
            }, function () { return "failed"; });
        });
      }, Promise.resolve("empty"));
    });
  }

  function flush() {
    if (flushing) return flushing;
    flushing = (function loop() {
      return sendForms().then(function (formState) {
        if (formState === "failed") return backoff();
        return sendStatements().then(function (state) {
          if (state === "empty") { failures = 0; batchSize = BATCH; return state; }
          if (state === "failed") return backoff();
          if (state === "signed-out") return state;
          failures = 0;
          return loop();
        });
      });
    })().then(function (state) { flushing = null; return state; },
              function () { flushing = null; return backoff(); });
    return flushing;
  }

  /* A quiz posted while offline: keep the form (with a submission id, so a resend is the same
   * submission) and answer with a short page; it is sent with the next flush. */
  function queueQuiz(request) {
    return request.text().then(function (body) {
      var params = new URLSearchParams(body);
      if (!params.get("submission_id")) params.set("submission_id", uuid());
      var form = {key: params.get("submission_id"), url: request.url, body: params.toString(),
                  type: "application/x-www-form-urlencoded", queued: new Date().toISOString()};
      var online = self.fetch(form.url, {method: "POST", credentials: "same-origin", redirect: "manual",
                                         headers: {"content-type": form.type}, body: form.body});
      return online.catch(function () {
        return withStore(FORMS, "readwrite", function (store) { return store.put(form); }).then(function () {
          if (self.registration && self.registration.sync) self.registration.sync.register("ustaz-queue").catch(function () {});
          schedule(BASE_DELAY);
          return new Response("<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
            "<title>Ustaz</title><p>Saved on this phone. Your answers will be sent when you are online again." +
            "<br>Сохранено на телефоне. Ответы будут отправлены, когда появится связь.</p><p><a href=/me/courses>OK</a></p>",
            {status: 202, headers: {"content-type": "text/html; charset=utf-8"}});
        });
      });
    });
  }

  self.UstazQueue = {enqueue: enqueue, flush: flush, viewStatement: viewStatement};

  self.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "ustaz:statement") event.waitUntil(enqueue(data.statement));
    if (data.type === "ustaz:flush") event.waitUntil(flush());
  });

  self.addEventListener("sync", function (event) {
    if (event.tag === "ustaz-queue") event.waitUntil(flush());
  });

  self.addEventListener("fetch", function (event) {
    var request = event.request, url = new URL(request.url);
    if (url.origin !== self.location.origin) return;
    if (request.method === "POST" && QUIZ_POST.test(url.pathname)) {
      event.respondWith(queueQuiz(request));
      return;
    }
    if (!timer && !flushing && failures === 0) schedule(1000);  // the app is in use: a good time to sync
  });
})(self);
