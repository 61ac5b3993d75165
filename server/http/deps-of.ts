// What the HTTP side is given, built from the server's parts: the probes, metrics, /api/rooms, /api/docs
// and the demo's files. The routes see these functions, never the server itself.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Identify } from '../auth/identity.js'
import { Closes } from '../protocol/close-codes.js'
import type { PlaitServer } from '../server.js'
import type { HttpDeps } from './app.js'
import { defaultFeedLimits, type FeedLimits } from './docs/deps.js'

/** The package root (where package.json is), from this file in server/http/, dist/server/http/ or the bundle. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'plait') return dir
    dir = dirname(dir)
  }
  return process.cwd()
}

export function httpDepsOf(
  server: PlaitServer,
  own: {
    identify: Identify | null
    feeds: Partial<FeedLimits> | undefined
    isAlive(): boolean
    notReadyReason(): string
  },
): HttpDeps {
  const { config, store, registry, metrics } = server
  const identify = own.identify
  return {
    isAlive: own.isAlive,
    isReady: () => server.isReady(),
    notReadyReason: own.notReadyReason,
    renderMetrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
    info: () => ({ name: 'plait', auth: server.authMode, pathPrefix: config.pathPrefix }),
    demoDir: config.demo ? join(packageRoot(), 'web-demo', 'dist') : null,
    documents: {
      identify,
      listRooms: (options) => store.listRooms(options),
      hasRoom: (room) => store.hasRoom(room),
      openRoom: (name) => registry.acquire(name),
      loadedRoom: (name) => registry.get(name),
    },
    docs: {
      identify,
      adminToken: config.adminToken,
      allowQueryToken: config.allowQueryToken,
      maxDocumentBytes: config.maxDocumentBytes,
      listRooms: (options) => store.listRooms(options),
      hasRoom: (room) => store.hasRoom(room),
      describeRooms: (rooms) => store.describeRooms(rooms),
      openRoom: (name) => registry.acquire(name),
      loadedRoom: (name) => registry.get(name),
      openDocument: (room) => server.openDocument(room),
      deleteDocument: (room) => registry.delete(room, Closes.documentDeleted, 'document deleted'),
      versions: server.versions,
      events: server.events,
      feeds: { ...defaultFeedLimits, ...own.feeds },
    },
  }
}
