// Who sent a request under /api/docs, decided once per request: the operator (--admin-token), an
// identity (its JWT or the embedding hook, verified once, then asked per room with the socket's rules),
// or anyone in open mode.
import { timingSafeEqual } from 'node:crypto'
import type { HttpBindings } from '@hono/node-server'
import type { Context } from 'hono'
import type { Identify, Identity } from '../../auth/identity.js'
import { ApiError } from './errors.js'

export type Caller = { kind: 'operator' } | { kind: 'open' } | { kind: 'identity'; identity: Identity }

export interface CallerDeps {
  /** Null in open mode: everyone reads and writes. */
  identify: Identify | null
  adminToken: string | null
  /** --allow-query-token: `?token=` is accepted too (a browser's EventSource cannot send headers). */
  allowQueryToken: boolean
}

export type DocsEnv = { Bindings: HttpBindings }

const NO_TOKEN = 'send your token as Authorization: Bearer <token>'

function bearer(c: Context<DocsEnv>, deps: CallerDeps): string | null {
  const header = c.req.header('authorization')
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null
  if (match) return match[1]
  const query = c.req.query('token')
  if (query === undefined) return null
  // The socket's rule: a token in the URL ends up in proxy logs, so only when the operator said so.
  if (!deps.allowQueryToken)
    throw new ApiError(
      400,
      'bad-request',
      '?token= is not accepted (--allow-query-token); send Authorization: Bearer',
    )
  return query
}

/** Constant time, so the operator token cannot be guessed a byte at a time from response times. */
function isOperatorToken(token: string, adminToken: string): boolean {
  const given = Buffer.from(token)
  const expected = Buffer.from(adminToken)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export async function callerOf(c: Context<DocsEnv>, deps: CallerDeps): Promise<Caller> {
  const token = bearer(c, deps)
  if (token !== null && deps.adminToken !== null && isOperatorToken(token, deps.adminToken))
    return { kind: 'operator' }
  if (deps.identify === null) return { kind: 'open' }
  if (token === null) throw new ApiError(401, 'unauthorized', NO_TOKEN)
  const result = await deps.identify(token, c.env.incoming)
  if (!result.ok) throw new ApiError(401, 'unauthorized', result.reason)
  return { kind: 'identity', identity: result.identity }
}

/**
 * Throws the refusal unless `caller` may read `room` (and write it, with `write`); returns the caller's
 * user id (null for the operator and in open mode).
 */
export async function requireAccess(caller: Caller, room: string, write: boolean): Promise<string | null> {
  if (caller.kind !== 'identity') return null
  const verdict = await caller.identity.accessTo(room)
  if (!verdict.ok) {
    throw verdict.code === 4401
      ? new ApiError(401, 'unauthorized', verdict.reason)
      : new ApiError(403, 'forbidden', verdict.reason)
  }
  if (write && !verdict.canWrite) throw new ApiError(403, 'forbidden', `read-only access to ${room}`)
  return verdict.userId
}

/** Operator routes: the --admin-token, or anyone in open mode when no admin token is set. */
export function requireOperator(caller: Caller, deps: CallerDeps): void {
  if (caller.kind === 'operator') return
  if (caller.kind === 'open' && deps.adminToken === null) return
  throw new ApiError(
    403,
    'forbidden',
    deps.adminToken === null
      ? 'this route needs the operator token, and the server has none (start it with --admin-token)'
      : 'this route needs the operator token (--admin-token)',
  )
}
