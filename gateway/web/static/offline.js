/* Course page: "Save for offline reading" (shown only where a service worker can run); /offline lists it. */
'use strict';
(function () {
  var box = document.getElementById('offline');
  if (!box || !('serviceWorker' in navigator) || !window.caches) return;
  var status = box.querySelector('output'), d = box.dataset;
  box.hidden = false;
  navigator.serviceWorker.register('/sw.js');
  navigator.serviceWorker.addEventListener('message', function (e) {
    if (e.data && e.data.type === 'course-saved') status.textContent = d.done.replace('{n}', e.data.saved);
  });
  box.querySelector('button').addEventListener('click', function () {
    var urls = [location.pathname], items = [];
    document.querySelectorAll('a[data-offline]').forEach(function (a) {
      var url = a.getAttribute('href');
      urls.push(url);
      items.push({ url: url, title: a.textContent.trim(), kind: a.dataset.offline });
    });
    navigator.serviceWorker.ready.then(function (reg) {
      status.textContent = d.saving;
      reg.active.postMessage({ type: 'save-course', course: d.course, title: d.title, lang: d.lang, urls: urls, items: items });
    });
  });
})();
