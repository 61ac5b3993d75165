// Documents over HTTP, for apps that render or back up documents server-side:
//   GET /api/rooms                 the rooms in storage (with auth on: those the token may read)
//   GET /api/rooms/:room           { room, exists, loaded, clients }
//   GET /api/rooms/:room/state     the whole document as one Yjs update (application/octet-stream)
// The room is one percent-encoded path segment (encodeURIComponent("team/notes")). With auth on, send
// the same token a socket would, as `Authorization: Bearer <token>`.
import type { HttpBindings } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import type { Verifier } from './gateway.js'
import type { Room } from './room.js'
import { roomNameProblem } from './room-name.js'

export interface DocumentApiDeps {
  verifier: Verifier | null
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

export function documentApi(deps: DocumentApiDeps): Hono<Env> {
  const app = new Hono<Env>()

  /** Null when the request may read `room`; otherwise the refusal to return. */
  async function refusal(c: Context<Env>, room: string): Promise<Response | null> {
    if (deps.verifier === null) return null
    const token = bearer(c)
    if (token === null) return c.json({ error: NO_TOKEN }, 401)
    const verdict = await deps.verifier(token, room, c.env.incoming)
    if (verdict.ok) return null
    return c.json({ error: verdict.reason }, verdict.code === 4401 ? 401 : 403)
  }

  // Paged: ?limit= (default 1000, at most 10000) and ?after=<the previous page's next>.
  app.get('/rooms', async (c) => {
    const limit = Number(c.req.query('limit') ?? PAGE_DEFAULT)
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) {
      return c.json({ error: `limit must be a whole number from 1 to ${PAGE_MAX}` }, 400)
    }
    const page = await deps.listRooms({ after: c.req.query('after'), limit })
    const next = page.length === limit ? page[page.length - 1] : undefined
    if (deps.verifier === null) return c.json({ rooms: page, next })
    if (bearer(c) === null) return c.json({ error: NO_TOKEN }, 401)
    const readable: string[] = []
    for (const room of page) if ((await refusal(c, room)) === null) readable.push(room)
    return c.json({ rooms: readable, next })
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
    const opened = deps.openRoom(room)
    if (opened === null) return c.json({ error: 'the server holds its maximum number of rooms' }, 503)
    try {
      await opened.ready
    } catch {
      return c.json({ error: 'this document could not be loaded; see the server log' }, 500)
    }
    if (!opened.exists) return c.json({ error: `no document named ${room}` }, 404)
    const state = await opened.exportState()
    return c.body(state as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'application/octet-stream' })
  })

  return app
}
