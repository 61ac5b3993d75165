// GET /api/docs/:room/events: a live Server-Sent Events feed of a document's durable changes, each with
// who made it, resumable with Last-Event-ID from the room's ring of recent changes (change-hub.ts).
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import * as Y from 'yjs'
import { callerOf, type DocsEnv, requireAccess } from './caller.js'
import type { Change, ChangeHub, Watch } from './change-hub.js'
import type { DocsDeps } from './deps.js'
import { documentState } from './document-state.js'
import { ApiError, errorResponses } from './errors.js'
import { docOf, textOf } from './json-view.js'
import { RoomParam } from './params.js'

export const feedRoute = createRoute({
  method: 'get',
  path: '/docs/{room}/events',
  summary: "A live feed of the document's changes (Server-Sent Events)",
  description:
    'Each durable change is one event, `data: {"update": base64 Yjs update, "origins": [...], "text"?: string}` with an `id:`. ' +
    'Reconnect with `Last-Event-ID` to get exactly the changes missed; when the server no longer has them, the first event is the ' +
    'whole document as one update with `"full": true`. A comment line is sent every 15 s. A deleted document ends the feed with `event: deleted`.',
  request: {
    params: RoomParam,
    query: z.object({
      text: z.string().optional().openapi({
        description: 'Also send the new text of this Y.Text with each live change',
        example: 't',
      }),
    }),
    headers: z.object({ 'last-event-id': z.string().optional() }),
  },
  responses: {
    200: {
      description: 'An endless text/event-stream',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...errorResponses(400, 401, 403, 503),
  },
})

const base64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

/** Where a feed starts: what it sends before going live, and the document it reads `text` from. */
interface Start {
  /** The whole document, when the feed starts from it (a resume the ring does not cover). */
  full: Uint8Array | null
  replay: Change[]
  /** The ring position `full` and `doc` show. */
  position: number
  doc: Y.Doc | null
}

async function startOf(
  deps: DocsDeps,
  room: string,
  watch: Watch,
  lastEventId: string | undefined,
  text: boolean,
) {
  const replay = lastEventId === undefined ? [] : watch.since(lastEventId)
  const start: Start = { full: null, replay: replay ?? [], position: watch.seq(), doc: null }
  if (replay !== null && !text) return start
  const state = (await documentState(deps, room)) ?? EMPTY_UPDATE
  // Every change up to here is in `state` (it waited until all of them were durable); a later one needs
  // another write, so none arrived between that wait and this line.
  start.position = watch.seq()
  if (replay === null) start.full = state
  if (text) start.doc = docOf(state)
  return start
}

const EMPTY_UPDATE = new Uint8Array([0, 0])

export function registerFeed(app: OpenAPIHono<DocsEnv>, deps: DocsDeps, hub: ChangeHub): void {
  app.openapi(feedRoute, async (c) => {
    const { room } = c.req.valid('param')
    const textName = c.req.valid('query').text
    await requireAccess(await callerOf(c, deps), room, false)
    if (hub.openFeeds >= deps.feeds.maxFeeds)
      throw new ApiError(
        503,
        'unavailable',
        `the server has its maximum of ${deps.feeds.maxFeeds} open feeds`,
      )

    // Subscribed before the starting state is read, so no change falls between the two.
    const queue: Change[] = []
    let ended = false
    let deleted = false
    let wake: (() => void) | null = null
    const end = () => {
      ended = true
      wake?.()
    }
    const watch = hub.watch(
      room,
      (change) => {
        queue.push(change)
        // A reader this far behind reconnects and resumes from the ring instead of growing our queue.
        if (queue.length > deps.feeds.ringChanges) end()
        wake?.()
      },
      () => {
        deleted = true
        end()
      },
    )
    let start: Start
    try {
      start = await startOf(deps, room, watch, c.req.header('last-event-id'), textName !== undefined)
    } catch (error) {
      watch.close()
      throw error
    }
    const { doc, position } = start
    const textNow = () =>
      doc !== null && textName !== undefined ? (textOf(doc, textName) ?? undefined) : undefined

    return streamSSE(c, async (stream) => {
      stream.onAbort(end)
      const heartbeat = setInterval(() => stream.write(': heartbeat\n\n').catch(end), deps.feeds.heartbeatMs)
      const send = (change: Change, text: string | undefined) =>
        stream.writeSSE({
          id: watch.idOf(change.seq),
          data: JSON.stringify({ update: base64(change.update), origins: change.origins, text }),
        })
      try {
        if (start.full !== null) {
          const full = { update: base64(start.full), origins: [], full: true, text: textNow() }
          await stream.writeSSE({ id: watch.idOf(position), data: JSON.stringify(full) })
          // What arrived while the state was read is in it.
          while (queue.length > 0 && queue[0].seq <= position) queue.shift()
        }
        // Replayed changes are already in `doc`: only the last one can say what the text is now.
        for (const [i, change] of start.replay.entries()) {
          const last = i === start.replay.length - 1 && change.seq === position
          await send(change, last ? textNow() : undefined)
        }
        // Past its end a feed stops, except that a deleted document's last changes still go out first.
        while (!ended || (deleted && queue.length > 0)) {
          const change = queue.shift()
          if (change === undefined) {
            await new Promise<void>((resolve) => {
              wake = resolve
            })
            wake = null
            continue
          }
          // A change `doc` already has (it arrived while the state was read) changes nothing in it.
          if (doc !== null) Y.applyUpdate(doc, change.update)
          await send(change, textNow())
        }
        if (deleted) await stream.writeSSE({ event: 'deleted', data: JSON.stringify({ room }) })
      } finally {
        clearInterval(heartbeat)
        watch.close()
        doc?.destroy()
      }
    })
  })
}
