// Keeps the demo's pages and bundles available when the server is down, so a reload while offline still
// opens the editor (its content comes from IndexedDB). Network first: a running server always wins.

declare const PLAIT_SHELL_FILES: string[]
declare const PLAIT_SHELL_VERSION: string

// Service-worker types live in TypeScript's WebWorker lib, which this DOM project does not load.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void
}
interface FetchEvent extends ExtendableEvent {
  request: Request
  respondWith(response: Promise<Response>): void
}
interface ServiceWorkerScope {
  registration: { scope: string }
  skipWaiting(): Promise<void>
  clients: { claim(): Promise<void> }
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void
}

const worker = globalThis as unknown as ServiceWorkerScope
const cacheName = `plait-shell-${PLAIT_SHELL_VERSION}`
const scope = new URL(worker.registration.scope)
const shellUrls = new Set(PLAIT_SHELL_FILES.map((file) => new URL(file, scope).href))

worker.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(cacheName)
      .then((cache) => cache.addAll([...shellUrls]))
      .then(() => worker.skipWaiting()),
  )
})

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith('plait-shell-') && name !== cacheName)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => worker.clients.claim()),
  )
})

worker.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  url.hash = ''
  url.search = ''
  // only the demo's own files; API routes and everything else go straight to the network
  if (!shellUrls.has(url.href)) return
  event.respondWith(
    fetch(request)
      .then(async (response) => {
        if (response.ok) {
          const cache = await caches.open(cacheName)
          await cache.put(url.href, response.clone())
        }
        return response
      })
      .catch(async () => {
        const cached = await caches.match(url.href)
        if (cached !== undefined) return cached
        return Response.error()
      }),
  )
})
