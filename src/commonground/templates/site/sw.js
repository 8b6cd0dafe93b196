/* Common Ground service worker, served as /sw.js by commonground.site.views.

   It keeps the static assets and one offline page, nothing else:
   - install: keep the offline page and the core static files in a cache whose name
     carries a version (a hash of those files), so a deployment brings a new cache;
   - activate: delete the caches of older versions;
   - static files (GET): from the cache first, else from the network;
   - page navigations (GET): always from the network; when there is none, the kept
     offline page. Pages are never stored: they hold members' data;
   - anything that is not a GET (a vote, a post, a form) goes to the network
     untouched: it is never stored, queued or sent again later. */
"use strict";

const CONFIG = {{ config|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CONFIG.cache)
      .then((cache) =>
        cache.addAll([
          // Without cookies: the kept copy must not depend on who was signed in.
          new Request(CONFIG.offline, { cache: "reload", credentials: "omit" }),
          ...CONFIG.precache.map((url) => new Request(url, { cache: "reload" })),
        ])
      )
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith(CONFIG.cachePrefix) && name !== CONFIG.cache)
          .map((name) => caches.delete(name))
      );
      if (self.registration.navigationPreload) {
        // Start the network request while the worker wakes up.
        await self.registration.navigationPreload.enable();
      }
      await self.clients.claim();
    })()
  );
});

async function offlinePage() {
  const kept = await caches.match(CONFIG.offline, { cacheName: CONFIG.cache });
  return kept || Response.error();
}

async function networkFirstNavigation(event) {
  try {
    const preloaded = await event.preloadResponse;
    return preloaded || (await fetch(event.request));
  } catch (error) {
    return offlinePage();
  }
}

async function cacheFirstStatic(request) {
  const cache = await caches.open(CONFIG.cache);
  const kept = await cache.match(request, { ignoreVary: true });
  if (kept) {
    return kept;
  }
  const response = await fetch(request);
  if (CONFIG.hashedNames && response.ok && response.type === "basic") {
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return; // Writes: the network only, never stored or replayed.
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(networkFirstNavigation(event));
  } else if (url.pathname.startsWith(CONFIG.staticPrefix)) {
    event.respondWith(cacheFirstStatic(request));
  }
});
