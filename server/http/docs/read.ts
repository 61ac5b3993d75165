// GET /api/docs/:room: the document as one Yjs update (the default), as JSON of its root types, or as the
// plain text of one Y.Text. A document nobody wrote is 404, answered from storage without loading it.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { callerOf, type DocsEnv, requireAccess } from './caller.js'
import type { DocsDeps } from './deps.js'
import { existingState } from './document-state.js'
import { errorResponses } from './errors.js'
import { RoomParam } from './params.js'
import { answerState, checkStateQuery, StateQuery, stateContent, stateDescription } from './state-answer.js'

export const readRoute = createRoute({
  method: 'get',
  path: '/docs/{room}',
  summary: 'The document: one Yjs update, its root types as JSON, or one Y.Text as plain text',
  request: { params: RoomParam, query: StateQuery },
  responses: {
    200: { description: stateDescription, content: stateContent },
    ...errorResponses(400, 401, 403, 404, 503),
  },
})

export function registerRead(app: OpenAPIHono<DocsEnv>, deps: DocsDeps): void {
  app.openapi(readRoute, async (c) => {
    const { room } = c.req.valid('param')
    const query = c.req.valid('query')
    checkStateQuery(query)
    await requireAccess(await callerOf(c, deps), room, false)
    return answerState(c, await existingState(deps, room), query)
  })
}
