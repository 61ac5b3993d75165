// What the cluster store says when Redis or PostgreSQL fails: which one, where (without credentials),
// in a sentence. Neither client says it: ioredis answers "max retries per request" while disconnected,
// node-postgres "read ECONNRESET".
import pg from 'pg'
import { StoreError } from '../store.js'

/** Where the store connects, without credentials, for messages. */
export function safeUrls(value: string): string {
  return value
    .split(',')
    .map((url) => {
      try {
        const parsed = new URL(url.trim())
        return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
      } catch {
        return '(an unparsable URL)'
      }
    })
    .join(',')
}

/** An error of a PostgreSQL step, marked where it was caught (see inPostgres). */
class PostgresFailure extends Error {}

/** Runs a PostgreSQL step; whatever it throws is marked as PostgreSQL's. */
export async function inPostgres<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw new PostgresFailure((error as Error).message ?? String(error))
  }
}

// The cause's text is in the message already (pino would print it twice if it were the cause too).
export const ioError = (what: string, error: unknown) =>
  new StoreError(`${what}: ${(error as Error).message}`, 'io')

export interface FailureContext {
  redisUrl: string
  databaseUrl: string
  /** ioredis's connection status, or undefined while the store is closed. */
  redisStatus: string | undefined
}

/** `what` failed with `error`: a StoreError that names the side that failed. */
export function describeFailure(what: string, error: unknown, context: FailureContext): StoreError {
  const message = (error as Error).message ?? String(error)
  const { redisStatus } = context
  // ioredis's words for a lost connection; its status may still read 'ready' when the command fails.
  const lost = /Stream isn't writeable|max retries per request|Connection is closed/.test(message)
  if ((redisStatus !== undefined && redisStatus !== 'ready') || lost)
    return new StoreError(
      `${what}: Redis at ${safeUrls(context.redisUrl)} is not connected (${lost ? 'connection lost' : redisStatus})`,
      'io',
    )
  if (error instanceof PostgresFailure || error instanceof pg.DatabaseError)
    return new StoreError(`${what}: PostgreSQL at ${safeUrls(context.databaseUrl)}: ${message}`, 'io')
  return ioError(what, error)
}
