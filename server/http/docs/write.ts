// POST /api/docs/:room/updates: a binary Yjs update applied like a client's edit (stored, then sent to
// every connected client, announced with the server as its origin). Checked before it touches the
// document: an unreadable update is 400, one that builds on changes the document lacks is 409, and
// either changes nothing.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import * as Y from 'yjs'
import { callerOf, type DocsEnv, requireAccess } from './caller.js'
import type { DocsDeps } from './deps.js'
import { ApiError, errorResponses } from './errors.js'
import { RoomParam } from './params.js'
import { missingDependency, readableUpdate } from './update-check.js'

export const writeRoute = createRoute({
  method: 'post',
  path: '/docs/{room}/updates',
  summary: 'Apply one Yjs update to the document',
  description:
    'The body is one Yjs (v1) update, `Content-Type: application/octet-stream`, at most --max-document-size. ' +
    'The answer comes once it is durable and sent to every connected client. An update that depends on changes the ' +
    'document does not have is refused with 409 and nothing is stored: send them first, or the whole state of your ' +
    'document (`Y.encodeStateAsUpdate(doc)`), which carries them.',
  request: {
    params: RoomParam,
    body: {
      required: true,
      content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
    },
  },
  responses: {
    200: {
      description: "Stored and sent; `stateVector` is the document's state vector afterwards (base64)",
      content: {
        'application/json': {
          schema: z.object({ ok: z.literal(true), stateVector: z.string() }).openapi('UpdateApplied'),
        },
      },
    },
    ...errorResponses(400, 401, 403, 409, 413, 415, 503),
  },
})

const tooLarge = (limit: number, what: string) =>
  new ApiError(
    413,
    'too-large',
    `${what} would pass the server's limit of ${(limit / 1048576).toFixed(1)} MiB (--max-document-size)`,
  )

export function registerWrite(app: OpenAPIHono<DocsEnv>, deps: DocsDeps): void {
  // Before the route's own handler: a body over the limit is refused while it streams, never buffered whole.
  app.use(
    '/docs/:room/updates',
    bodyLimit({
      maxSize: deps.maxDocumentBytes,
      onError: () => {
        throw tooLarge(deps.maxDocumentBytes, 'this update')
      },
    }),
  )
  app.openapi(writeRoute, async (c) => {
    const { room } = c.req.valid('param')
    await requireAccess(await callerOf(c, deps), room, true)
    const type = c.req.header('content-type')?.split(';')[0].trim().toLowerCase()
    if (type !== 'application/octet-stream')
      throw new ApiError(
        415,
        'unsupported-media-type',
        'send the update as Content-Type: application/octet-stream',
      )
    const update = new Uint8Array(await c.req.arrayBuffer())
    readableUpdate(update)
    let handle: Awaited<ReturnType<DocsDeps['openDocument']>>
    try {
      handle = await deps.openDocument(room)
    } catch (error) {
      throw new ApiError(503, 'unavailable', (error as Error).message)
    }
    try {
      const stored = deps.loadedRoom(room)?.storedBytes ?? 0
      if (stored + update.byteLength > deps.maxDocumentBytes)
        throw tooLarge(deps.maxDocumentBytes, 'the document')
      // Checked inside the edit, so nothing can change the document between the check and the apply.
      await handle.transact((doc) => {
        const missing = missingDependency(update, doc)
        if (missing !== null)
          throw new ApiError(409, 'missing-dependencies', `nothing was stored: ${missing}`)
        Y.applyUpdate(doc, update)
      })
      const stateVector = Buffer.from(Y.encodeStateVector(handle.doc)).toString('base64')
      return c.json({ ok: true as const, stateVector }, 200)
    } catch (error) {
      if (error instanceof ApiError) throw error
      throw new ApiError(503, 'unavailable', (error as Error).message)
    } finally {
      handle.release()
    }
  })
}
