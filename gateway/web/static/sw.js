/* Ustaz service worker: progressive enhancement only; every page works without it.
   Modules add handlers with ustaz.use({message, fetch}); a fetch handler returns true when it answered.
   Keep each module small: teachers download this on 2G. */
'use strict';
const ustaz = { modules: [], use(m) { this.modules.push(m); } };
self.ustaz = ustaz;

/* Offline reading (docs/sync.md): a cache per course version with a manifest /offline lists;
   network first, then the cache, then /offline for a page never saved. */
const SHELL = 'ustaz-shell', START = '/offline', MANIFEST = '/offline/manifest.json';
const keepShell = () => caches.open(SHELL).then((c) => Promise.all([START, '/static/saved.js',
  '/static/sw-queue.js'].map((u) => c.add(new Request(u, { credentials: 'same-origin' })).catch(() => {}))));
const fromCache = (req, nav) => caches.match(req, { ignoreVary: true })
  .then((hit) => hit || (nav && caches.match(START, { ignoreVary: true, cacheName: SHELL })))
  .then((hit) => hit || new Response('offline', { status: 503, headers: { 'Content-Type': 'text/plain' } }));
ustaz.use({
  message(event) {
    const d = event.data || {};
    if (d.type !== 'save-course' || !Array.isArray(d.urls)) return false;
    event.waitUntil(caches.open('course:' + d.course).then(async (cache) => {
      const titles = new Map((d.items || []).map((i) => [i.url, i])), items = [];
      let saved = 0;
      for (const url of d.urls) {
        try {
          await cache.add(new Request(url, { credentials: 'same-origin', headers: { 'X-Ustaz-Save': '1' } }));
          saved++;
          if (titles.has(url)) items.push(titles.get(url));
        } catch (e) { /* keep going */ }
      }
      const entry = { course: d.course, title: d.title, lang: d.lang, url: d.urls[0], items, saved_at: new Date().toISOString() };
      await cache.put(MANIFEST, new Response(JSON.stringify(entry), { headers: { 'Content-Type': 'application/json' } }));
      await keepShell();
      if (event.source) event.source.postMessage({ type: 'course-saved', course: d.course, saved, total: d.urls.length });
    }));
    return true;
  },
  fetch(event) {
    const req = event.request, url = new URL(req.url), nav = req.mode === 'navigate', path = url.pathname;
    if (req.method !== 'GET' || url.origin !== self.location.origin || path === MANIFEST) return false;
    if (!nav && !path.startsWith('/courses/') && !path.startsWith('/static/')) return false;
    event.respondWith(fetch(req).then((res) => {
      if (nav && path === START && res.ok) { const copy = res.clone(); caches.open(SHELL).then((c) => c.put(START, copy)); }
      return res;
    }).catch(() => fromCache(req, nav)));
    return true;
  },
});

/* The offline queue of learning records and quiz answers (docs/sync.md) listens for its own events. */
importScripts('/static/sw-queue.js');

self.addEventListener('install', (event) => { self.skipWaiting(); event.waitUntil(keepShell()); });
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('message', (event) => { for (const m of ustaz.modules) if (m.message && m.message(event)) return; });
self.addEventListener('fetch', (event) => { for (const m of ustaz.modules) if (m.fetch && m.fetch(event)) return; });
