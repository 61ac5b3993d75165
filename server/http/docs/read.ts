// GET /api/docs/:room: the document as one Yjs update (the default), as JSON of its root types, or as the
// plain text of one Y.Text. A document nobody wrote is 404, answered from storage without loading it.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { callerOf, type DocsEnv, requireAccess } from './caller.js'
import type { DocsDeps } from './deps.js'
import { existingState } from './document-state.js'
import { ApiError, errorResponses } from './errors.js'
import { docOf, rootsAsJson, textOf } from './json-view.js'
import { RoomParam } from './params.js'

export const readRoute = createRoute({
  method: 'get',
  path: '/docs/{room}',
  summary: 'The document: one Yjs update, its root types as JSON, or one Y.Text as plain text',
  request: {
    params: RoomParam,
    query: z.object({
      format: z.enum(['update', 'json', 'text']).default('update'),
      name: z
        .string()
        .optional()
        .openapi({ description: 'With format=text: the Y.Text to read', example: 't' }),
    }),
  },
  responses: {
    200: {
      description:
        'update: `Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()))`. json: each root type by name ' +
        '(Y.Text as a string, Y.Map as an object, Y.Array as an array, XML as its string). text: the Y.Text, "" when there is none.',
      content: {
        'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
        'application/json': { schema: z.record(z.string(), z.unknown()).openapi('DocumentJson') },
        'text/plain': { schema: z.string() },
      },
    },
    ...errorResponses(400, 401, 403, 404, 503),
  },
})

export function registerRead(app: OpenAPIHono<DocsEnv>, deps: DocsDeps): void {
  app.openapi(readRoute, async (c) => {
    const { room } = c.req.valid('param')
    const { format, name } = c.req.valid('query')
    if (format === 'text' && name === undefined)
      throw new ApiError(400, 'bad-request', 'format=text needs name=<the Y.Text to read>')
    await requireAccess(await callerOf(c, deps), room, false)
    const state = await existingState(deps, room)
    if (format === 'update')
      return c.body(state as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'application/octet-stream' })
    const doc = docOf(state)
    try {
      if (format === 'json') return c.json(rootsAsJson(doc), 200)
      const text = textOf(doc, name as string)
      if (text === null) throw new ApiError(400, 'bad-request', `${name} is not a Y.Text in this document`)
      return c.text(text, 200, { 'Content-Type': 'text/plain; charset=utf-8' })
    } finally {
      doc.destroy()
    }
  })
}
