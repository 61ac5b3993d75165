// GET /api/docs: the stored rooms the caller may read, paged, with what the server knows cheaply about
// each. The cursor comes from the filtered list (room-listing.ts), so paging never names a room the
// caller may not read, and only the storage ranges of its token's patterns and the prefix are read.
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi'
import type { Identity } from '../../auth/identity.js'
import type { AuthVerdict } from '../../auth/verdict.js'
import { listReadable } from '../room-listing.js'
import { type Caller, callerOf, type DocsEnv } from './caller.js'
import type { DocsDeps } from './deps.js'
import { ApiError, errorResponses } from './errors.js'
import type { LastChange } from './last-change.js'

const PAGE_MAX = 10_000

const RoomSummary = z
  .object({
    name: z.string(),
    loaded: z.boolean().openapi({ description: 'Whether the document is in memory now' }),
    size: z.number().int().nullable().openapi({
      description: 'Bytes in storage (snapshot and log) for a loaded document; null when it is not loaded',
    }),
    lastChange: z.string().nullable().openapi({
      description:
        'When it last changed (ISO 8601), known for a loaded document changed since it loaded; else null',
    }),
  })
  .openapi('RoomSummary')

export const listRoute = createRoute({
  method: 'get',
  path: '/docs',
  summary: 'The stored documents the caller may read, in name order, paged',
  request: {
    query: z.object({
      prefix: z
        .string()
        .optional()
        .openapi({ description: 'Only names that start with this', example: 'team/' }),
      after: z.string().optional().openapi({ description: "The previous page's `next`" }),
      limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(1000),
    }),
  },
  responses: {
    200: {
      description: 'One page; `next` is absent on the last one',
      content: {
        'application/json': {
          schema: z.object({ rooms: z.array(RoomSummary), next: z.string().optional() }).openapi('RoomPage'),
        },
      },
    },
    ...errorResponses(400, 401),
  },
})

const allowed: AuthVerdict = { ok: true, userId: '', canWrite: true }
const outside = (room: string): AuthVerdict => ({
  ok: false,
  code: 4403,
  reason: `${room} is outside the prefix`,
})

/** The caller's readable rooms narrowed to `prefix`: its token's ranges intersected with the prefix. */
function within(prefix: string, caller: Caller): Identity {
  const inner = caller.kind === 'identity' ? caller.identity : null
  const prefixes =
    inner?.prefixes === undefined
      ? [prefix]
      : inner.prefixes.flatMap((p) => (p.startsWith(prefix) ? [p] : prefix.startsWith(p) ? [prefix] : []))
  return {
    prefixes,
    accessTo: (room) => (!room.startsWith(prefix) ? outside(room) : inner ? inner.accessTo(room) : allowed),
  }
}

export function registerList(app: OpenAPIHono<DocsEnv>, deps: DocsDeps, lastChange: LastChange): void {
  app.openapi(listRoute, async (c) => {
    const { prefix = '', after, limit } = c.req.valid('query')
    const caller = await callerOf(c, deps)
    const page = await listReadable(deps.listRooms, within(prefix, caller), after, limit)
    if ('refused' in page) throw new ApiError(401, 'unauthorized', page.refused.reason)
    const rooms = page.rooms.map((name) => {
      const loaded = deps.loadedRoom(name)
      const at = lastChange.of(name)
      return {
        name,
        loaded: loaded !== undefined,
        size: loaded?.state === 'ready' ? loaded.storedBytes : null,
        lastChange: at === null ? null : new Date(at).toISOString(),
      }
    })
    return c.json(page.next === undefined ? { rooms } : { rooms, next: page.next }, 200)
  })
}
