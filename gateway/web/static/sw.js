/* Ustaz service worker: progressive enhancement only; every page works without it.
   Modules add handlers with ustaz.use({message, fetch}); a fetch handler returns true when it answered.
   Keep each module small: teachers download this on 2G. */
'use strict';
const ustaz = { modules: [], use(m) { this.modules.push(m); } };
self.ustaz = ustaz;

/* Offline reading: the course page asks to save an enrolled course; its pages go into one cache per
   course version (versions are immutable). Pages are fetched from the network first, the cache only
   answers when the network does not. */
ustaz.use({
  message(event) {
    const d = event.data || {};
    if (d.type !== 'save-course' || !Array.isArray(d.urls)) return false;
    event.waitUntil(caches.open('course:' + d.course).then(async (cache) => {
      let saved = 0;
      for (const url of d.urls) {
        try { await cache.add(new Request(url, { credentials: 'same-origin', headers: { 'X-Ustaz-Save': '1' } })); saved++; } catch (e) { /* keep going */ }
      }
      if (event.source) event.source.postMessage({ type: 'course-saved', course: d.course, saved, total: d.urls.length });
    }));
    return true;
  },
  fetch(event) {
    const req = event.request;
    if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return false;
    if (!new URL(req.url).pathname.startsWith('/courses/')) return false;
    event.respondWith(fetch(req).catch(() => caches.match(req, { ignoreVary: true }).then((hit) =>
      hit || new Response('offline', { status: 503, headers: { 'Content-Type': 'text/plain' } }))));
    return true;
  },
});

/* The offline queue of learning records and quiz answers (docs/sync.md) listens for its own events. */
importScripts('/static/sw-queue.js');

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('message', (event) => { for (const m of ustaz.modules) if (m.message && m.message(event)) return; });
self.addEventListener('fetch', (event) => { for (const m of ustaz.modules) if (m.fetch && m.fetch(event)) return; });
