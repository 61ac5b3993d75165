// The HTTP side of the port: one small Hono app per concern, mounted in one place.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import type { HttpBindings } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { DocsDeps } from './docs/deps.js'
import { LastChange } from './docs/last-change.js'
import { type DocumentApiDeps, documentApi } from './document-api.js'
import { withSecurityHeaders } from './security-headers.js'

export interface HttpDeps {
  isAlive(): boolean
  isReady(): boolean
  /** Why the server is not ready, for /readyz. */
  notReadyReason(): string
  /** Prometheus text and its content type (prom-client renders asynchronously). */
  renderMetrics(): Promise<{ contentType: string; body: string }>
  info(): Record<string, unknown>
  /** Directory of the built demo, or null to serve no demo. */
  demoDir: string | null
  documents: DocumentApiDeps
  /** /api/docs and /api/openapi.json. */
  docs: DocsDeps
}

/** A complete answer with a text body: what the probes and /metrics send, from Hono or from Node alone. */
export interface PlainAnswer {
  status: ContentfulStatusCode
  contentType: string
  body: string
}

const json = (status: ContentfulStatusCode, value: unknown): PlainAnswer => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(value),
})

/**
 * GET /healthz, /readyz and /metrics: the one list both the Hono app and the plain listener answer from.
 * The health probes answer at once; /metrics waits for prom-client's render.
 */
const probes: Record<string, (deps: HttpDeps) => PlainAnswer | Promise<PlainAnswer>> = {
  '/healthz': (deps) => (deps.isAlive() ? json(200, { status: 'ok' }) : json(503, { status: 'stopping' })),
  '/readyz': (deps) =>
    deps.isReady()
      ? json(200, { status: 'ready' })
      : json(503, { status: 'not ready', reason: deps.notReadyReason() }),
  '/metrics': async (deps) => ({ status: 200, ...(await deps.renderMetrics()) }),
}

/** The answer to GET `path` when it is a probe; null for any other path. */
export function probeAnswer(path: string, deps: HttpDeps): PlainAnswer | Promise<PlainAnswer> | null {
  return Object.hasOwn(probes, path) ? probes[path](deps) : null
}

function probesApp(deps: HttpDeps): Hono {
  const app = new Hono()
  for (const [path, answer] of Object.entries(probes)) {
    app.get(path, async (c) => {
      const { body, status, contentType } = await answer(deps)
      return c.body(body, status, { 'Content-Type': contentType })
    })
  }
  return app
}

function apiApp(deps: HttpDeps): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>()
  app.get('/info', (c) => c.json(deps.info()))
  app.route('/', documentApi(deps.documents))
  // The document API is loaded at its first request: its zod schemas took ~60 ms of every start-up
  // (start -> ready 224 -> 307 ms, median of 5), for a server that may never be asked.
  const lastChange = new LastChange(deps.docs.events)
  let docs: Promise<Hono<{ Bindings: HttpBindings }>> | null = null
  const forward = async (c: Context<{ Bindings: HttpBindings }>) => {
    docs ??= import('./docs/docs-app.js').then(({ docsApi }) => docsApi(deps.docs, lastChange))
    return (await docs).fetch(c.req.raw, c.env)
  }
  app.all('/docs', forward)
  app.all('/docs/*', forward)
  app.get('/openapi.json', forward)
  return app
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
}

/** Reads the built demo once into memory: a few hundred KB, served without touching the disk again. */
function loadStaticFiles(root: string): Map<string, { body: Uint8Array; type: string }> {
  const files = new Map<string, { body: Uint8Array; type: string }>()
  const walk = (dir: string, urlPath: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name)
      if (statSync(full).isDirectory()) walk(full, `${urlPath}${name}/`)
      else
        files.set(`${urlPath}${name}`, {
          body: readFileSync(full),
          type: contentTypes[extname(name)] ?? 'application/octet-stream',
        })
    }
  }
  walk(root, '/')
  return files
}

function demoApp(root: string | null): Hono {
  const app = new Hono()
  app.use('*', withSecurityHeaders)
  let files: Map<string, { body: Uint8Array; type: string }> | null = null
  try {
    if (root !== null) files = loadStaticFiles(root)
  } catch {
    files = null
  }
  app.get('*', (c) => {
    if (files === null) {
      if (c.req.path === '/') {
        return c.text(
          'plait is running. The demo is not built: run `npm run build` (npm start does it for you).\n',
        )
      }
      return c.notFound()
    }
    let path = c.req.path
    if (path.endsWith('/')) path += 'index.html'
    let file = files.get(path)
    if (file === undefined && files.has(`${path}/index.html`)) return c.redirect(`${c.req.path}/`, 301)
    file = file ?? undefined
    if (file === undefined) return c.notFound()
    const cache = path.endsWith('.html') ? 'no-cache' : 'public, max-age=300'
    return c.body(file.body as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': file.type,
      'Cache-Control': cache,
    })
  })
  return app
}

export function createHttpApp(deps: HttpDeps): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>()
  app.route('/', probesApp(deps))
  app.route('/api', apiApp(deps))
  // With the demo off (an embedder's default) `/` is the embedder's to route on server.app, not a page
  // telling them to build a demo they did not ask for.
  if (deps.demoDir !== null) app.route('/', demoApp(deps.demoDir))
  app.notFound((c) => c.json({ error: 'not found', path: c.req.path }, 404))
  app.onError((error, c) => c.json({ error: 'internal error', message: error.message }, 500))
  return app
}
