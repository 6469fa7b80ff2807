// The demo app's service worker: keeps the app shell loadable without a network (a reload
// while offline), network first so a restarted `npm start` is seen at once. The APIs are on
// other origins and are never touched here: the client's outbox handles being offline.
const CACHE = 'demo-shell-v1';
const SHELL = ['/', '/app.js', '/styles.css', '/config.json'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  const key = url.pathname === '/index.html' ? '/' : url.pathname;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok && SHELL.includes(key)) {
          const copy = response.clone();
          void caches.open(CACHE).then((cache) => cache.put(key, copy));
        }
        return response;
      })
      .catch(() =>
        caches.match(key).then((cached) => cached ?? new Response('Offline', { status: 503 })),
      ),
  );
});
