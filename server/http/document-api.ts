// Documents over HTTP, for apps that render or back up documents server-side:
//   GET /api/rooms                 the rooms in storage (with auth on: those the token may read)
//   GET /api/rooms/:room           { room, exists, loaded, clients }
//   GET /api/rooms/:room/state     the whole document as one Yjs update (application/octet-stream)
// The room is one percent-encoded path segment (encodeURIComponent("team/notes")). With auth on, send
// the same token a socket would, as `Authorization: Bearer <token>`; it is verified once per request.
import type { HttpBindings } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import type { Identify, Identity } from '../auth/identity.js'
import type { Room } from '../documents/room.js'
import { roomNameProblem } from '../protocol/room-name.js'
import { listReadable } from './room-listing.js'

export interface DocumentApiDeps {
  /** Null in open mode (everyone reads everything). */
  identify: Identify | null
  listRooms(options: { after?: string; limit?: number }): Promise<string[]>
  hasRoom(room: string): Promise<boolean>
  /** The room, loaded (null when the process holds its maximum of rooms). */
  openRoom(name: string): Room | null
  loadedRoom(name: string): Room | undefined
}

type Env = { Bindings: HttpBindings }

const PAGE_DEFAULT = 1000
const PAGE_MAX = 10_000
const NO_TOKEN = 'send your token as Authorization: Bearer <token>'

function bearer(c: Context<Env>): string | null {
  const header = c.req.header('authorization')
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null
  return match ? match[1] : null
}

/** The request's identity; null in open mode; a Response for a missing or bad token (401). */
async function identityOf(c: Context<Env>, identify: Identify | null): Promise<Identity | null | Response> {
  if (identify === null) return null
  const token = bearer(c)
  if (token === null) return c.json({ error: NO_TOKEN }, 401)
  const result = await identify(token, c.env.incoming)
  return result.ok ? result.identity : c.json({ error: result.reason }, 401)
}

export function documentApi(deps: DocumentApiDeps): Hono<Env> {
  const app = new Hono<Env>()

  /** Null when the request may read `room`; otherwise the refusal to return. */
  async function refusal(c: Context<Env>, room: string): Promise<Response | null> {
    const identity = await identityOf(c, deps.identify)
    if (identity === null) return null
    if (identity instanceof Response) return identity
    const verdict = await identity.accessTo(room)
    if (verdict.ok) return null
    return c.json({ error: verdict.reason }, verdict.code === 4401 ? 401 : 403)
  }

  // Paged: ?limit= (default 1000, at most 10000) and ?after=<the previous page's next>. With auth on, a
  // page holds up to `limit` rooms the token may read and `next` is the last of them, so paging never
  // names a room the token cannot read.
  app.get('/rooms', async (c) => {
    const limit = Number(c.req.query('limit') ?? PAGE_DEFAULT)
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) {
      return c.json({ error: `limit must be a whole number from 1 to ${PAGE_MAX}` }, 400)
    }
    const after = c.req.query('after')
    const identity = await identityOf(c, deps.identify)
    if (identity instanceof Response) return identity
    if (identity === null) {
      const page = await deps.listRooms({ after, limit })
      return c.json({ rooms: page, next: page.length === limit ? page[page.length - 1] : undefined })
    }
    const page = await listReadable(deps.listRooms, identity, after, limit)
    return 'refused' in page ? c.json({ error: page.refused.reason }, 401) : c.json(page)
  })

  app.get('/rooms/:room', async (c) => {
    const room = c.req.param('room')
    const problem = roomNameProblem(room)
    if (problem !== null) return c.json({ error: problem }, 400)
    const refused = await refusal(c, room)
    if (refused) return refused
    const loaded = deps.loadedRoom(room)
    const exists = loaded?.exists ?? (await deps.hasRoom(room))
    return c.json({ room, exists, loaded: loaded !== undefined, clients: loaded?.size ?? 0 })
  })

  app.get('/rooms/:room/state', async (c) => {
    const room = c.req.param('room')
    const problem = roomNameProblem(room)
    if (problem !== null) return c.json({ error: problem }, 400)
    const refused = await refusal(c, room)
    if (refused) return refused
    // Ask storage before loading: a read of a missing room must not take one of the --max-rooms slots.
    const notFound = () => c.json({ error: `no document named ${room}` }, 404)
    if (deps.loadedRoom(room)?.exists !== true && !(await deps.hasRoom(room))) return notFound()
    const opened = deps.openRoom(room)
    if (opened === null) return c.json({ error: 'the server holds its maximum number of rooms' }, 503)
    try {
      await opened.ready
    } catch {
      return c.json({ error: 'this document could not be loaded; see the server log' }, 500)
    }
    if (!opened.exists) return notFound()
    const state = await opened.exportState()
    return c.body(state as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'application/octet-stream' })
  })

  return app
}
