// The real services the cluster tests stand on (issue 18) do what those tests assume: a Redis and a
// PostgreSQL of the test's own keep what they acknowledged across a crash and come back on the same port,
// and the balancer spreads clients over nodes and routes around one that is down.
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import pg from 'pg'
import { startBalancer } from './helpers/balancer.js'
import { waitFor } from './helpers/clients.js'
import { postgresSkipReason, startPostgres } from './helpers/postgres-server.js'
import { redisSkipReason, startRedis } from './helpers/redis-server.js'
import { unmet } from './helpers/requirements.js'

function redisClient(url: string): Redis {
  // fail fast instead of queueing: a test should see a server that is down
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true })
  client.on('error', () => {})
  return client
}

test('Redis with appendfsync always keeps every acknowledged write across kill -9', {
  skip: unmet(redisSkipReason()),
}, async () => {
  const redis = await startRedis({ appendfsync: 'always' })
  try {
    const writer = redisClient(redis.url)
    await writer.connect()
    for (let i = 0; i < 50; i++) await writer.set(`key:${i}`, `value ${i}`)
    await writer.xadd('room:stream', '*', 'update', 'bytes')
    writer.disconnect()

    const before = redis.pid
    await redis.kill()
    await redis.start()
    assert.notEqual(redis.pid, before, 'a new process')
    assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`)

    const reader = redisClient(redis.url)
    await reader.connect()
    assert.equal(await reader.dbsize(), 51)
    assert.equal(await reader.get('key:49'), 'value 49')
    assert.equal(await reader.xlen('room:stream'), 1)
    // the policy the cluster relies on: a full Redis refuses writes instead of dropping keys
    assert.deepEqual(await reader.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction'])
    reader.disconnect()
  } finally {
    await redis.dispose()
  }
})

test('Redis restart: a client that stays connected gets through again on the same port', {
  skip: unmet(redisSkipReason()),
}, async () => {
  const redis = await startRedis()
  // ioredis reconnects on its own, as the cluster's clients will
  const client = new Redis(redis.url, { retryStrategy: () => 50, maxRetriesPerRequest: null })
  client.on('error', () => {})
  try {
    await client.set('before', '1')
    await redis.restart()
    assert.equal(await client.get('before'), '1')
    await client.set('after', '2')
    await redis.restart()
    assert.equal(await client.get('after'), '2')
  } finally {
    client.disconnect()
    await redis.dispose()
  }
})

test('PostgreSQL keeps committed rows across kill -9, in a database of its own', {
  skip: unmet(postgresSkipReason()),
}, async () => {
  const postgres = await startPostgres()
  try {
    const url = await postgres.createDatabase()
    const other = await postgres.createDatabase()
    assert.notEqual(url, other)

    const writer = new pg.Client({ connectionString: url })
    writer.on('error', () => {})
    await writer.connect()
    await writer.query('CREATE TABLE updates (id serial PRIMARY KEY, body bytea NOT NULL)')
    for (let i = 0; i < 20; i++)
      await writer.query('INSERT INTO updates (body) VALUES ($1)', [Buffer.from([i])])

    const before = postgres.pid
    await postgres.kill()
    // the session died with the server, as a node's pool would see it
    await assert.rejects(writer.query('SELECT 1'))
    await writer.end().catch(() => {})
    await postgres.start()
    assert.notEqual(postgres.pid, before, 'a new postmaster')

    const reader = new pg.Client({ connectionString: url })
    await reader.connect()
    const rows = await reader.query<{ count: string; last: Buffer }>(
      'SELECT count(*) AS count, (SELECT body FROM updates ORDER BY id DESC LIMIT 1) AS last FROM updates',
    )
    assert.equal(rows.rows[0].count, '20')
    assert.deepEqual([...rows.rows[0].last], [19])
    await reader.end()

    const fresh = new pg.Client({ connectionString: other })
    await fresh.connect()
    const tables = await fresh.query("SELECT 1 FROM pg_tables WHERE tablename = 'updates'")
    assert.equal(tables.rowCount, 0, 'each database starts empty')
    await fresh.end()

    await postgres.restart()
    const again = new pg.Client({ connectionString: url })
    await again.connect()
    assert.equal((await again.query('SELECT count(*) AS count FROM updates')).rows[0].count, '20')
    await again.end()
  } finally {
    await postgres.dispose()
  }
})

/** A stand-in node: greets every connection with its name and keeps it open. */
async function namedBackend(name: string): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.write(name)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as { port: number }).port, server, sockets }
}

interface Connected {
  socket: Socket
  /** Resolves with the backend's greeting, or null when the connection closes without one. */
  greeting: Promise<string | null>
  closed: Promise<void>
}

function connectThrough(port: number): Connected {
  const socket = tcpConnect({ host: '127.0.0.1', port })
  socket.on('error', () => {})
  const greeting = new Promise<string | null>((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString()))
    socket.once('close', () => resolve(null))
  })
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return { socket, greeting, closed }
}

test('the balancer spreads connections round robin and routes around a backend that is down', async () => {
  const a = await namedBackend('a')
  const b = await namedBackend('b')
  const balancer = await startBalancer(() => [a.port, b.port])
  try {
    const first = Array.from({ length: 6 }, () => connectThrough(balancer.port))
    const names = await Promise.all(first.map((client) => client.greeting))
    assert.deepEqual([...names].sort(), ['a', 'a', 'a', 'b', 'b', 'b'])
    await waitFor(() => balancer.connections === 6, 'six connections through the balancer')

    // b goes down: its clients see their sockets close, the rest stay
    await new Promise<void>((resolve) => {
      b.server.close(() => resolve())
      for (const socket of b.sockets) socket.destroy()
    })
    await Promise.all(first.filter((_, i) => names[i] === 'b').map((client) => client.closed))
    await waitFor(() => balancer.connections === 3, "b's clients gone from the balancer")

    const after = Array.from({ length: 6 }, () => connectThrough(balancer.port))
    assert.deepEqual(await Promise.all(after.map((client) => client.greeting)), [
      'a',
      'a',
      'a',
      'a',
      'a',
      'a',
    ])

    // with every backend down a client is cut off rather than left hanging
    await new Promise<void>((resolve) => {
      a.server.close(() => resolve())
      for (const socket of a.sockets) socket.destroy()
    })
    const stranded = connectThrough(balancer.port)
    assert.equal(await stranded.greeting, null)
    await waitFor(() => balancer.connections === 0, 'no connections left')
  } finally {
    await balancer.close()
    a.server.close()
    b.server.close()
  }
})
