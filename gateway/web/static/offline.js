/* Course page: "Save for offline reading" (shown only where a service worker can run). */
'use strict';
(function () {
  var box = document.getElementById('offline');
  if (!box || !('serviceWorker' in navigator) || !window.caches) return;
  var button = box.querySelector('button'), status = box.querySelector('output');
  box.hidden = false;
  navigator.serviceWorker.register('/sw.js');
  navigator.serviceWorker.addEventListener('message', function (e) {
    if (e.data && e.data.type === 'course-saved') status.textContent = box.dataset.done.replace('{n}', e.data.saved);
  });
  button.addEventListener('click', function () {
    var urls = [location.pathname];
    document.querySelectorAll('a[data-offline]').forEach(function (a) { urls.push(a.getAttribute('href')); });
    navigator.serviceWorker.ready.then(function (reg) {
      status.textContent = box.dataset.saving;
      reg.active.postMessage({ type: 'save-course', course: box.dataset.course, urls: urls });
    });
  });
})();
