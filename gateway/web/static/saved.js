/* The start page for offline (/offline): lists the courses saved on this phone from the service
   worker's caches (one per course version, each with its manifest of pages and titles), opens them
   without a network, and removes one on request. Shown by the worker for any page not saved when
   there is no network: then it says so. */
'use strict';
(function () {
  var box = document.getElementById('saved');
  if (!box || !window.caches) return;
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js');
  if (location.pathname !== '/offline') document.getElementById('offline-note').hidden = false;
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (attrs[k]) node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }
  function show(entry, name) {
    var card = el('section', { 'class': 'card', 'data-saved-course': entry.course });
    var h = el('h2', { lang: entry.lang });
    h.appendChild(el('a', { href: entry.url }, entry.title || entry.url));
    card.appendChild(h);
    var list = el('ol');
    entry.items.forEach(function (item) {
      var li = el('li');
      li.appendChild(el('a', { href: item.url, lang: entry.lang, 'data-saved-item': item.kind }, item.title || item.url));
      if (item.kind === 'quiz') li.appendChild(el('span', { 'class': 'muted' }, ' (' + box.dataset.quiz + ')'));
      list.appendChild(li);
    });
    card.appendChild(list);
    var when = new Date(entry.saved_at);
    var date = isNaN(when) ? '' : when.toLocaleDateString(document.documentElement.lang || undefined);
    card.appendChild(el('p', { 'class': 'muted' }, box.dataset.savedOn.replace('{date}', date)));
    var remove = el('button', { type: 'button', 'class': 'linkish' }, box.dataset.remove);
    remove.addEventListener('click', function () { caches.delete(name).then(function () { card.remove(); empty(); }); });
    card.appendChild(remove);
    box.appendChild(card);
  }
  function empty() { box.querySelector('[data-empty]').hidden = !!box.querySelector('[data-saved-course]'); }
  caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf('course:') === 0; }).map(function (name) {
      return caches.open(name).then(function (c) { return c.match('/offline/manifest.json'); })
        .then(function (hit) { return hit ? hit.json().then(function (e) { return [e, name]; }) : null; });
    }));
  }).then(function (found) {
    found.filter(Boolean).sort(function (a, b) { return a[0].saved_at < b[0].saved_at ? 1 : -1; })
      .forEach(function (pair) { show(pair[0], pair[1]); });
    empty();
  });
})();
