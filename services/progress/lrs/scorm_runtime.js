/* The SCORM run-time API for the SCO in the frame below (docs/lrs.md "Packages"): `API` (SCORM 1.2)
   or `API_1484_11` (SCORM 2004) on this window, where the SCO finds it by walking up its parents.
   Values live in `cmi` (resumed from what the SCO left last time); Commit and Finish/Terminate send
   them to the LMS, which keeps them as a State document and turns status and score into progress. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("scorm-config").textContent);
  var v12 = config.kind === "scorm12";
  var cmi = {};
  var saved = config.saved || {};
  var running = false, finished = false, lastError = "0", dirty = false;
  var key = function (name) { return name; };
  var k = v12
    ? { status: "cmi.core.lesson_status", entry: "cmi.core.entry", student: "cmi.core.student_id",
        name: "cmi.core.student_name", location: "cmi.core.lesson_location", exit: "cmi.core.exit",
        mode: "cmi.core.lesson_mode", credit: "cmi.core.credit", total: "cmi.core.total_time",
        session: "cmi.core.session_time", launch: "cmi.launch_data", mastery: "cmi.student_data.mastery_score" }
    : { status: "cmi.completion_status", entry: "cmi.entry", student: "cmi.learner_id",
        name: "cmi.learner_name", location: "cmi.location", exit: "cmi.exit", mode: "cmi.mode",
        credit: "cmi.credit", total: "cmi.total_time", session: "cmi.session_time",
        launch: "cmi.launch_data", mastery: "cmi.scaled_passing_score" };
  var readOnly = {};
  [k.entry, k.student, k.name, k.mode, k.credit, k.total, k.launch, k.mastery].forEach(function (n) { readOnly[n] = true; });
  var writeOnly = {}; writeOnly[k.session] = true; writeOnly[k.exit] = true;

  function reset() {
    cmi = {};
    Object.keys(saved).forEach(function (n) { if (!writeOnly[n]) { cmi[n] = saved[n]; } });
    var resumed = saved[k.exit] === "suspend";
    cmi[k.entry] = resumed ? "resume" : (v12 ? "ab-initio" : "ab-initio");
    cmi[k.student] = config.student_id;
    cmi[k.name] = config.student_id;
    cmi[k.mode] = "normal";
    cmi[k.credit] = "credit";
    cmi[k.launch] = config.launch_data || "";
    if (config.mastery !== null && config.mastery !== undefined) {
      cmi[k.mastery] = v12 ? String(Math.round(config.mastery * 100)) : String(config.mastery);
    }
    if (!cmi[k.status]) { cmi[k.status] = v12 ? "not attempted" : "unknown"; }
    if (!v12 && !cmi["cmi.success_status"]) { cmi["cmi.success_status"] = "unknown"; }
    if (!cmi[k.total]) { cmi[k.total] = v12 ? "0000:00:00" : "PT0S"; }
  }

  function send(finishing) {
    var data = {};
    Object.keys(cmi).forEach(function (n) { data[n] = String(cmi[n]); });
    var body = JSON.stringify({ cmi: data, finished: !!finishing });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", config.commit, false);  /* synchronous: the SCO may unload right after */
    xhr.setRequestHeader("Content-Type", "application/json");
    try { xhr.send(body); } catch (e) { lastError = v12 ? "101" : "391"; return false; }
    if (xhr.status !== 200) { lastError = v12 ? "101" : "391"; return false; }
    dirty = false;
    return true;
  }

  var ERRORS = v12
    ? { "0": "No error", "101": "General exception", "201": "Invalid argument error",
        "301": "Not initialized", "401": "Not implemented error", "403": "Element is read only",
        "404": "Element is write only", "405": "Incorrect data type" }
    : { "0": "No error", "101": "General exception", "103": "Already initialized",
        "104": "Content instance terminated", "112": "Termination before initialization",
        "113": "Termination after termination", "122": "Retrieve data before initialization",
        "123": "Retrieve data after termination", "132": "Store data before initialization",
        "133": "Store data after termination", "142": "Commit before initialization",
        "143": "Commit after termination", "201": "General argument error", "391": "General commit failure",
        "401": "Undefined data model element", "403": "Data model element value not initialized",
        "404": "Data model element is read only", "405": "Data model element is write only" };

  function initialize(arg) {
    if (v12 && running) { lastError = "101"; return "false"; }
    if (!v12 && (running || finished)) { lastError = finished ? "104" : "103"; return "false"; }
    reset(); running = true; lastError = "0"; return "true";
  }
  function finish(arg) {
    if (!running) { lastError = v12 ? "301" : (finished ? "113" : "112"); return "false"; }
    if (cmi[k.session]) { cmi[k.total] = cmi[k.total]; }
    if (!v12 && cmi["cmi.completion_status"] === "unknown" && cmi["cmi.progress_measure"] === "1") {
      cmi["cmi.completion_status"] = "completed";
    }
    var ok = send(true);
    running = false; finished = true;
    return ok ? "true" : "false";
  }
  function getValue(name) {
    if (!running) { lastError = v12 ? "301" : (finished ? "123" : "122"); return ""; }
    if (writeOnly[name]) { lastError = v12 ? "404" : "405"; return ""; }
    if (/\._count$/.test(name)) {
      var prefix = name.replace(/_count$/, ""), n = 0;
      while (Object.keys(cmi).some(function (x) { return x.indexOf(prefix + n + ".") === 0; })) { n++; }
      lastError = "0"; return String(n);
    }
    if (!(name in cmi)) { lastError = v12 ? "0" : "403"; return ""; }
    lastError = "0"; return String(cmi[name]);
  }
  function setValue(name, value) {
    if (!running) { lastError = v12 ? "301" : (finished ? "133" : "132"); return "false"; }
    if (typeof name !== "string" || name.indexOf("cmi.") !== 0) { lastError = v12 ? "201" : "401"; return "false"; }
    if (readOnly[name]) { lastError = v12 ? "403" : "404"; return "false"; }
    cmi[name] = String(value); dirty = true; lastError = "0"; return "true";
  }
  function commit(arg) {
    if (!running) { lastError = v12 ? "301" : (finished ? "143" : "142"); return "false"; }
    return send(false) ? "true" : "false";
  }
  function lastErrorCode() { return lastError; }
  function errorString(code) { return ERRORS[String(code)] || ""; }
  function diagnostic(code) { return errorString(code || lastError); }

  if (v12) {
    window.API = {
      LMSInitialize: initialize, LMSFinish: finish, LMSGetValue: getValue, LMSSetValue: setValue,
      LMSCommit: commit, LMSGetLastError: lastErrorCode, LMSGetErrorString: errorString,
      LMSGetDiagnostic: diagnostic
    };
  } else {
    window.API_1484_11 = {
      Initialize: initialize, Terminate: finish, GetValue: getValue, SetValue: setValue,
      Commit: commit, GetLastError: lastErrorCode, GetErrorString: errorString,
      GetDiagnostic: diagnostic
    };
  }
  window.addEventListener("beforeunload", function () { if (running && dirty) { send(false); } });
})();
