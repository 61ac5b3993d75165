// GET /api/docs/:room/events: a live Server-Sent Events feed of a document's durable changes, each with
// who made it, resumable with Last-Event-ID from the room's ring of recent changes (change-hub.ts).
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { streamSSE } from 'hono/streaming'
import * as Y from 'yjs'
import { callerOf, type DocsEnv, requireAccess } from './caller.js'
import type { Change, ChangeHub } from './change-hub.js'
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
    const lastEventId = c.req.header('last-event-id')

    return streamSSE(c, async (stream) => {
      const queue: Change[] = []
      let ended = false
      let wake: (() => void) | null = null
      const signal = () => {
        wake?.()
        wake = null
      }
      const end = () => {
        ended = true
        signal()
      }
      const watch = hub.watch(
        room,
        (change) => {
          queue.push(change)
          // A reader this far behind reconnects and resumes from the ring instead of growing our queue.
          if (queue.length > deps.feeds.ringChanges) end()
          signal()
        },
        () => {
          stream.writeSSE({ event: 'deleted', data: JSON.stringify({ room }) }).finally(end)
        },
      )
      stream.onAbort(end)
      const heartbeat = setInterval(() => stream.write(': heartbeat\n\n').catch(end), deps.feeds.heartbeatMs)
      try {
        const replay = lastEventId === undefined ? [] : watch.since(lastEventId)
        let doc: Y.Doc | null = null
        let position = watch.seq()
        if (replay === null || textName !== undefined) {
          const state = (await documentState(deps, room)) ?? new Uint8Array([0, 0])
          // Every change up to now is in `state` (it waited for all of them to be durable); later ones
          // need another write, so none can arrive before this line runs.
          position = watch.seq()
          doc = textName === undefined ? null : docOf(state)
          if (replay === null) {
            const text = doc !== null && textName !== undefined ? textOf(doc, textName) : undefined
            const full = { update: base64(state), origins: [], full: true, text: text ?? undefined }
            await stream.writeSSE({ id: watch.idOf(position), data: JSON.stringify(full) })
            queue.splice(0, queue.length, ...queue.filter((change) => change.seq > position))
          }
        }
        // Replayed changes are already in `doc`: only the last one can say what the text is now. Changes
        // queued meanwhile are sent as well (applying one that `doc` has changes nothing).
        for (const [i, change] of (replay ?? []).entries()) {
          const last = i === (replay?.length ?? 0) - 1 && change.seq === position
          await send(
            change,
            last && doc !== null && textName !== undefined ? textOf(doc, textName) : undefined,
          )
        }
        while (!ended) {
          const change = queue.shift()
          if (change === undefined) {
            await new Promise<void>((resolve) => {
              wake = resolve
            })
            continue
          }
          let text: string | null | undefined
          if (doc !== null && textName !== undefined) {
            Y.applyUpdate(doc, change.update)
            text = textOf(doc, textName)
          }
          await send(change, text)
        }
      } finally {
        clearInterval(heartbeat)
        watch.close()
      }

      function send(change: Change, text: string | null | undefined): Promise<void> {
        const data = { update: base64(change.update), origins: change.origins, text: text ?? undefined }
        return stream.writeSSE({ id: watch.idOf(change.seq), data: JSON.stringify(data) })
      }
    })
  })
}
