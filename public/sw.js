// CRIS Field service worker: keeps the app shell on the phone, so the app opens and works with
// no network after one online visit.
//
// The build (scripts/sw-precache.sh, a trunk post_build hook) fills in VERSION, PRECACHE and
// LATER with this build's files; the placeholders below are never edited by hand.
//
// Rules:
// - Only the app shell is cached. Requests under /api/ are never touched: they carry personal
//   data, and the app keeps its records in IndexedDB, not in this cache.
// - The office part (the supervisors' screens) is not precached: a worker's phone never
//   downloads it. A browser that fetches it (a supervisor's) keeps it, for offline use.
// - A new version installs in the background and waits; the app shows a banner, and only when
//   the user chooses to reload does it take over (message "skip-waiting").
const VERSION = "__CRIS_SW_VERSION__";
const PRECACHE = [/*__CRIS_SW_PRECACHE__*/];
const LATER = [/*__CRIS_SW_LATER__*/];
const CACHE = "cris-shell-" + VERSION;
const SHELL = "/index.html";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })))),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith("cris-shell-") && name !== CACHE)
          .map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") {
    self.skipWaiting();
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/api" || url.pathname.startsWith("/api/")) return;

  if (request.mode === "navigate") {
    // Every screen is the same single-page app: answer navigations with the cached shell.
    event.respondWith(
      caches.match(SHELL, { cacheName: CACHE }).then((hit) => hit || fetch(request)),
    );
    return;
  }
  event.respondWith(
    caches.match(request, { cacheName: CACHE }).then(
      (hit) =>
        hit ||
        fetch(request).then((response) => {
          if (response.ok && LATER.includes(url.pathname)) {
            const copy = response.clone();
            event.waitUntil(caches.open(CACHE).then((cache) => cache.put(url.pathname, copy)));
          }
          return response;
        }),
    ),
  );
});
