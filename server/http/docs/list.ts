// GET /api/docs: the stored rooms the caller may read, paged, with what the server knows cheaply about
// each: a loaded room's live size and last change, else what storage records (one describeRooms a page). The cursor comes from the filtered list (room-listing.ts), so paging never names a room the
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
      description:
        'Bytes in storage (snapshot and log); null when unknown (a document last written by an older plait)',
    }),
    lastChange: z.string().nullable().openapi({
      description:
        'When it last changed (ISO 8601); null when unknown (a document last written by an older plait)',
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
    const live = page.rooms.map((name) => {
      const loaded = deps.loadedRoom(name)
      const size = loaded?.state === 'ready' ? loaded.storedBytes : null
      return { name, loaded: loaded !== undefined, size, at: lastChange.of(name) }
    })
    // Storage for what memory does not know: rooms not loaded, or loaded but unchanged since (or loading).
    const unknown = live.filter(({ size, at }) => size === null || at === null).map(({ name }) => name)
    const stored = unknown.length === 0 ? new Map() : await deps.describeRooms(unknown)
    const rooms = live.map(({ name, loaded, size, at }) => {
      const info = stored.get(name)
      const changed = at ?? info?.lastChange ?? null
      return {
        name,
        loaded,
        size: size ?? info?.bytes ?? null,
        lastChange: changed === null ? null : new Date(changed).toISOString(),
      }
    })
    return c.json(page.next === undefined ? { rooms } : { rooms, next: page.next }, 200)
  })
}
