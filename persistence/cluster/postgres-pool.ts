// The cluster store's connections to PostgreSQL, and the one way it runs several statements atomically.
import pg from 'pg'

/** A pool whose connect and statements time out (a node must not hang on a PostgreSQL that went away). */
export function createPool(databaseUrl: string, timeoutMs: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs * 2,
    query_timeout: timeoutMs * 2,
  })
  // An idle client whose server went away is dropped by the pool; the next query reconnects.
  pool.on('error', () => {})
  return pool
}

/** Runs `body` in one transaction on one client: committed if it resolves, rolled back if it throws. */
export async function inTransaction<T>(
  pool: pg.Pool,
  body: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await body(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}
