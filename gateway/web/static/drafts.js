// Drafts of community posts that survive going offline (docs/practice.md), kept on the phone as the
// observation form keeps its queue (observe.js): localStorage, one JSON map under one key. A form
// marked data-draft="<key>" is saved as it is typed and put back when the page opens again; it is
// still sent by its own plain POST. The page the server answers an accepted post with names that
// draft (data-draft-sent) and it is cleared then. Offline, a submit stays on the page and says so.
// Keys carry the signed-in user's id (a shared phone shows nobody else's draft); a month old: dropped.
(function () {
  "use strict";
  var KEY = "ustaz-drafts";
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "{}"); } catch (e) { return {}; } }
  function save(d) { try { localStorage.setItem(KEY, JSON.stringify(d)); } catch (e) { /* full: the form still works */ } }
  var drafts = load(), old = new Date(Date.now() - 30 * 864e5).toISOString();
  Object.keys(drafts).forEach(function (k) { if (!drafts[k] || !(drafts[k].at > old)) { delete drafts[k]; } });  // a month: let go
  document.querySelectorAll("[data-draft-sent]").forEach(function (el) {
    var name = el.getAttribute("data-draft-sent");
    if (drafts[name] && drafts[name].sent) { delete drafts[name]; }  // accepted; one typed since stays
  });
  save(drafts);
  if (/[?&]posted=/.test(location.search) && history.replaceState) {  // a reload is not "posted" again
    history.replaceState(null, "", location.pathname + location.search.replace(/[?&]posted=[^&]*/, "").replace(/^&/, "?") + location.hash);
  }
  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var name = form.dataset.draft, note = form.querySelector("[data-draft-note]");
    function fields() { return form.querySelectorAll("textarea[name], input[name]:not([type=hidden])"); }
    function say(text) { if (note) { note.textContent = text || ""; } }
    function keep(sent) {
      var d = load(), values = {}, typed = false;
      fields().forEach(function (f) { values[f.name] = f.value; typed = typed || !!f.value.trim(); });
      if (typed) { d[name] = { values: values, sent: sent, at: new Date().toISOString() }; } else { delete d[name]; }
      save(d);
    }
    var kept = drafts[name], restored = false;
    if (kept && kept.values) {
      fields().forEach(function (f) {
        if (!f.value && kept.values[f.name]) { f.value = kept.values[f.name]; restored = true; }
      });
      if (restored) { say(form.dataset.restored); form.dataset.draftRestored = "1"; }
    }
    form.addEventListener("input", function () { keep(false); });
    form.addEventListener("submit", function (event) {
      if (navigator.onLine === false) {  // the post would be lost with the page: keep it here
        event.preventDefault();
        keep(false);
        say(form.dataset.offline);
        form.dataset.draftOffline = "1";
        return;
      }
      keep(true);  // cleared when the server's answer names it; kept if the send fails
    });
    window.addEventListener("online", function () { if (form.dataset.draftOffline) { say(""); delete form.dataset.draftOffline; } });
  });
})();
