// DELETE /api/docs/:room (operator only): the document's clients are closed with 4404 "document
// deleted" (stock clients do not reconnect after a 44xx close), its feeds end, and its data is deleted.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import { callerOf, type DocsEnv, requireOperator } from './caller.js'
import type { ChangeHub } from './change-hub.js'
import type { DocsDeps } from './deps.js'
import { ApiError, errorResponses } from './errors.js'
import { RoomParam } from './params.js'

export const deleteRoute = createRoute({
  method: 'delete',
  path: '/docs/{room}',
  summary: 'Delete the document (operator token only)',
  description:
    'Send the --admin-token as `Authorization: Bearer <token>`. Connected clients are closed with 4404 and the ' +
    'stored data is deleted; the answer comes once it is gone.',
  request: { params: RoomParam },
  responses: {
    204: { description: 'Deleted' },
    ...errorResponses(400, 401, 403, 404, 503),
  },
})

export function registerDelete(app: OpenAPIHono<DocsEnv>, deps: DocsDeps, hub: ChangeHub): void {
  app.openapi(deleteRoute, async (c) => {
    const { room } = c.req.valid('param')
    requireOperator(await callerOf(c, deps), deps)
    if (deps.loadedRoom(room)?.exists !== true && !(await deps.hasRoom(room)))
      throw new ApiError(404, 'not-found', `no document named ${room}`)
    try {
      await deps.deleteDocument(room)
    } catch (error) {
      throw new ApiError(503, 'unavailable', `the document could not be deleted: ${(error as Error).message}`)
    }
    hub.endRoom(room)
    return c.body(null, 204)
  })
}
