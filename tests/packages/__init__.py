"""Small cmi5 and SCORM packages built in memory for the tests (docs/lrs.md "Packages")."""

from __future__ import annotations

import io
import zipfile

CMI5_XML = """<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://example.org/cmi5/course">
    <title><langstring lang="en-US">Digital classroom</langstring></title>
    <description><langstring lang="en-US">Two AUs</langstring></description>
  </course>
  <au id="https://example.org/cmi5/au/intro" moveOn="Completed">
    <title><langstring lang="en-US">Introduction</langstring></title>
    <description><langstring lang="en-US">Read</langstring></description>
    <url>intro/index.html</url>
  </au>
  <block id="https://example.org/cmi5/block/1">
    <title><langstring lang="en-US">Block</langstring></title>
    <description><langstring lang="en-US">Block</langstring></description>
    <au id="https://example.org/cmi5/au/test" moveOn="CompletedAndPassed" masteryScore="0.7">
      <title><langstring lang="en-US">Test</langstring></title>
      <description><langstring lang="en-US">Pass it</langstring></description>
      <url>test/index.html?lang=en</url>
      <launchParameters>{"level": 2}</launchParameters>
    </au>
  </block>
</courseStructure>
"""

SCORM12_XML = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="ustaz-test-12" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Safe internet (SCORM 1.2)</title>
      <item identifier="item1" identifierref="res1">
        <title>Lesson and check</title>
        <adlcp:masteryscore>70</adlcp:masteryscore>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="res1" type="webcontent" adlcp:scormtype="sco" href="sco/index.html">
      <file href="sco/index.html"/>
    </resource>
  </resources>
</manifest>
"""

SCORM2004_XML = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="ustaz-test-2004" version="1"
  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Safe internet (SCORM 2004)</title>
      <item identifier="item1" identifierref="res1"><title>Lesson and check</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="res1" type="webcontent" adlcp:scormType="sco" href="sco/index.html">
      <file href="sco/index.html"/>
    </resource>
  </resources>
</manifest>
"""

# A SCO that runs itself: finds the API, records a score of 85 and passes (1.2) / completes and
# passes (2004), then finishes. Its page title says what happened, for the browser test to wait on.
SCO_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SCO</title></head>
<body><p id="out">starting</p><script>
function find(w, name) { for (var i = 0; w && i < 10; i++) { if (w[name]) return w[name]; if (w === w.parent) break; w = w.parent; } return null; }
var a12 = find(window, "API"), a04 = find(window, "API_1484_11"), log = [];
if (a12) {
  log.push(a12.LMSInitialize(""));
  log.push(a12.LMSGetValue("cmi.core.student_id"));
  log.push(a12.LMSSetValue("cmi.core.score.raw", "85"));
  log.push(a12.LMSSetValue("cmi.core.lesson_status", "passed"));
  log.push(a12.LMSSetValue("cmi.core.student_id", "someone-else") + ":" + a12.LMSGetLastError());
  log.push(a12.LMSCommit(""));
  log.push(a12.LMSFinish(""));
} else if (a04) {
  log.push(a04.Initialize(""));
  log.push(a04.GetValue("cmi.learner_id"));
  log.push(a04.SetValue("cmi.score.scaled", "0.85"));
  log.push(a04.SetValue("cmi.completion_status", "completed"));
  log.push(a04.SetValue("cmi.success_status", "passed"));
  log.push(a04.SetValue("cmi.learner_id", "someone-else") + ":" + a04.GetLastError());
  log.push(a04.Commit(""));
  log.push(a04.Terminate(""));
  log.push(a04.GetValue("cmi.learner_id") + ":" + a04.GetLastError());
} else { log.push("no API"); }
document.getElementById("out").textContent = log.join(" ");
document.title = "done";
</script></body></html>
"""

AU_HTML = "<!doctype html><html><head><title>AU</title></head><body>An AU</body></html>"


def zipped(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content if isinstance(content, bytes) else content.encode())
    return buffer.getvalue()


def cmi5_package() -> bytes:
    return zipped({"cmi5.xml": CMI5_XML, "intro/index.html": AU_HTML, "test/index.html": AU_HTML})


def scorm12_package() -> bytes:
    return zipped({"imsmanifest.xml": SCORM12_XML, "sco/index.html": SCO_HTML})


def scorm2004_package() -> bytes:
    return zipped({"imsmanifest.xml": SCORM2004_XML, "sco/index.html": SCO_HTML})


# A cmi5 AU that runs itself in a browser: reads its launch parameters, fetches its auth token,
# reads LMS.LaunchData, then sends initialized, completed, passed (when its moveOn asks for it) and
# terminated, built from the contextTemplate; its #out says what the LRS answered.
AU_SCRIPTED = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>AU</title></head>
<body><p id="out">starting</p><script>
(async function () {
  var q = new URLSearchParams(location.search), out = [];
  var endpoint = q.get("endpoint"), actor = JSON.parse(q.get("actor")), reg = q.get("registration");
  var au = q.get("activityId");
  var token = (await (await fetch(q.get("fetch"), {method: "POST"})).json())["auth-token"];
  var h = {"Authorization": "Basic " + token, "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"};
  var state = new URLSearchParams({activityId: au, agent: JSON.stringify(actor), registration: reg, stateId: "LMS.LaunchData"});
  var data = await (await fetch(endpoint + "activities/state?" + state, {headers: h})).json();
  out.push(data.moveOn);
  function st(verb, moveon, result) {
    var ctx = JSON.parse(JSON.stringify(data.contextTemplate));
    ctx.registration = reg;
    ctx.contextActivities.category = [{id: "https://w3id.org/xapi/cmi5/context/categories/cmi5"}];
    if (moveon) ctx.contextActivities.category.push({id: "https://w3id.org/xapi/cmi5/context/categories/moveon"});
    var s = {actor: actor, verb: {id: "http://adlnet.gov/expapi/verbs/" + verb}, object: {id: au}, context: ctx};
    if (result) s.result = result;
    return s;
  }
  var batch = [st("initialized"), st("completed", true, {completion: true, duration: "PT5S"})];
  if (data.moveOn.indexOf("Passed") >= 0) batch.push(st("passed", true, {success: true, score: {scaled: 0.9}}));
  batch.push(st("terminated"));
  for (var i = 0; i < batch.length; i++) {
    var r = await fetch(endpoint + "statements", {method: "POST", headers: h, body: JSON.stringify(batch[i])});
    out.push(r.status);
  }
  var late = await fetch(endpoint + "statements", {method: "POST", headers: h, body: JSON.stringify(st("completed", true, {completion: true}))});
  out.push(late.status);
  document.getElementById("out").textContent = out.join(" ");
})().catch(function (e) { document.getElementById("out").textContent = "error " + e; });
</script></body></html>
"""


def cmi5_browser_package() -> bytes:
    return zipped({"cmi5.xml": CMI5_XML, "intro/index.html": AU_SCRIPTED, "test/index.html": AU_SCRIPTED})
