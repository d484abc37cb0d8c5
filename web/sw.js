// Service worker: the app shell cached for offline use. API responses (personal data) are never
// cached: /api/* and every other origin (presigned S3) go to the network only.
const CACHE = 'hadir-shell-v1';
const SHELL = ['./', 'index.html', 'app.css', 'app.js', 'api.js', 'dom.js', 'i18n.js', 'common.js', 'capture.js',
  'employee.js', 'staff.js', 'queue.js', 'svgmap.js', 'config.js', 'manifest.webmanifest',
  'icons/icon-192.png', 'icons/icon-512.png', 'icons/maskable-512.png'];

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((ks) => Promise.all(ks.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  // network first (fresh code when online), the cached shell when offline
  e.respondWith(fetch(e.request).then((r) => {
    if (r.ok) { const copy = r.clone(); caches.open(CACHE).then((c) => c.put(e.request, copy)); }
    return r;
  }).catch(() => caches.match(e.request, { ignoreSearch: true })
    .then((m) => m || (e.request.mode === 'navigate' ? caches.match('index.html') : Response.error()))));
});
