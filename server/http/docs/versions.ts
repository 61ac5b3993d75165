// Named versions over HTTP: POST and GET /api/docs/:room/versions, GET …/versions/:id (read like the
// document itself) and POST …/versions/:id/restore. Reading needs read access to the room; keeping and
// restoring a version need write access (restoring edits the document).
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import { versionIdProblem } from '../../../persistence/store.js'
import { VersionError } from '../../documents/versions.js'
import { callerOf, type DocsEnv, requireAccess } from './caller.js'
import type { DocsDeps } from './deps.js'
import { ApiError, errorResponses } from './errors.js'
import { RoomParam } from './params.js'
import { answerState, checkStateQuery, StateQuery, stateContent, stateDescription } from './state-answer.js'

const VersionParams = RoomParam.extend({
  id: z
    .string()
    .superRefine((id, context) => {
      const problem = versionIdProblem(id)
      if (problem !== null) context.addIssue({ code: 'custom', message: problem })
    })
    .openapi({ param: { name: 'id', in: 'path' }, description: 'The version id from the list' }),
})

const VersionIdSchema = z.object({ id: z.string() }).openapi('VersionId')

const VersionInfoSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: z.string().openapi({ description: 'ISO 8601', example: '2026-12-01T10:00:00.000Z' }),
    createdBy: z
      .string()
      .nullable()
      .openapi({ description: "The token's user; null for the operator or open mode" }),
    size: z.number().int().openapi({ description: 'Bytes of the snapshot' }),
  })
  .openapi('VersionInfo')

const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } })

const createVersionRoute = createRoute({
  method: 'post',
  path: '/docs/{room}/versions',
  summary: 'Keep the document as it is now as a named version',
  request: {
    params: RoomParam,
    body: {
      required: true,
      content: json(z.object({ name: z.string().min(1).max(200) }).openapi('NewVersion')),
    },
  },
  responses: {
    200: { description: 'Kept (a full snapshot, untouched by compaction)', content: json(VersionIdSchema) },
    ...errorResponses(400, 401, 403, 404, 503),
  },
})

const listVersionsRoute = createRoute({
  method: 'get',
  path: '/docs/{room}/versions',
  summary: "The document's versions, newest first",
  request: { params: RoomParam },
  responses: {
    200: {
      description: 'Every version, newest first',
      content: json(z.object({ versions: z.array(VersionInfoSchema) }).openapi('VersionList')),
    },
    ...errorResponses(400, 401, 403, 404, 503),
  },
})

const readVersionRoute = createRoute({
  method: 'get',
  path: '/docs/{room}/versions/{id}',
  summary: 'One version, in the formats of the document itself',
  request: { params: VersionParams, query: StateQuery },
  responses: {
    200: { description: stateDescription, content: stateContent },
    ...errorResponses(400, 401, 403, 404, 503),
  },
})

const restoreVersionRoute = createRoute({
  method: 'post',
  path: '/docs/{room}/versions/{id}/restore',
  summary: 'Make a version current again, as one new change every client follows',
  description:
    "Each root type's content is replaced by the version's (deletes, then inserts), stored and sent to every " +
    'connected client like any edit; edits others make meanwhile merge as usual. The document as it was just ' +
    'before is kept as a version, `before`: restoring it undoes the restore.',
  request: { params: VersionParams },
  responses: {
    200: {
      description: 'Restored and durable',
      content: json(z.object({ ok: z.literal(true), before: z.string() }).openapi('VersionRestored')),
    },
    ...errorResponses(400, 401, 403, 404, 503),
  },
})

/** The embedding API's refusals as HTTP ones; anything else is the server not managing right now. */
function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof VersionError) return new ApiError(404, 'not-found', error.message)
  return new ApiError(503, 'unavailable', (error as Error).message)
}

async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw asApiError(error)
  }
}

async function mustExist(deps: DocsDeps, room: string): Promise<void> {
  if (deps.loadedRoom(room)?.exists !== true && !(await deps.hasRoom(room)))
    throw new ApiError(404, 'not-found', `no document named ${room}`)
}

export function registerVersions(app: OpenAPIHono<DocsEnv>, deps: DocsDeps): void {
  app.openapi(createVersionRoute, async (c) => {
    const { room } = c.req.valid('param')
    const { name } = c.req.valid('json')
    const createdBy = await requireAccess(await callerOf(c, deps), room, true)
    const { id } = await answering(() => deps.versions.create(room, { name, createdBy }))
    return c.json({ id }, 200)
  })

  app.openapi(listVersionsRoute, async (c) => {
    const { room } = c.req.valid('param')
    await requireAccess(await callerOf(c, deps), room, false)
    await mustExist(deps, room)
    const listed = await answering(() => deps.versions.list(room))
    const versions = listed.map((v) => ({ ...v, createdAt: new Date(v.createdAt).toISOString() }))
    return c.json({ versions }, 200)
  })

  app.openapi(readVersionRoute, async (c) => {
    const { room, id } = c.req.valid('param')
    const query = c.req.valid('query')
    checkStateQuery(query)
    await requireAccess(await callerOf(c, deps), room, false)
    const version = await answering(() => deps.versions.read(room, id))
    if (version === null) throw new ApiError(404, 'not-found', `document ${room} has no version ${id}`)
    return answerState(c, version.snapshot, query)
  })

  app.openapi(restoreVersionRoute, async (c) => {
    const { room, id } = c.req.valid('param')
    const by = await requireAccess(await callerOf(c, deps), room, true)
    const { before } = await answering(() => deps.versions.restore(room, id, { by }))
    return c.json({ ok: true as const, before }, 200)
  })
}
