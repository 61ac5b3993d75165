// What a stranger can do to the server over plain HTTP without hurting anyone else: reads of missing
// rooms take no room slot, and half-open connections are closed and capped.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { loadConfig } from '../server/cli/config.js'
import type { ServerOptions } from '../server/server.js'
import { connectProvider, RawClient, synced, waitFor } from './helpers/clients.js'
import { getFrom, metricValue, openHalfOpen } from './helpers/raw-http.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

/** Polls an async check until it holds; fails with `what` after `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Waits until the open HTTP connections gauge reads `count` (the scrape itself is one of them). */
const openConnections = (s: TestServer, count: number, what: string) =>
  eventually(async () => (await metricValue(s.port, 'plait_http_connections_open')) === count, what)

const healthyFrom = (s: TestServer, from: string) => async () =>
  (await getFrom(s.port, '/healthz', from)).status === 200

/** A server for one test, stopped afterwards even when the test fails. */
async function withServer(options: ServerOptions, run: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await startServer(options)
  try {
    await run(s)
  } finally {
    await s.stop()
    removeDir(s.dataDir)
  }
}

const metric = async (s: TestServer, name: string): Promise<number> => {
  const text = await (await fetch(`${s.http}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
}

describe('reads of rooms that do not exist', () => {
  let s: TestServer
  before(async () => {
    s = await startServer({ limits: { maxRooms: 20 } })
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('answer 404 without loading a room, so a new WebSocket room still opens', async () => {
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => fetch(`${s.http}/api/rooms/missing-${batch}-${i}/state`)),
      )
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([404]))
    }
    assert.equal(await metric(s, 'plait_loaded_rooms'), 0, 'no room was loaded for a 404')
    const client = connectProvider(s.url, 'after-the-404s')
    await synced(client)
    client.destroy()
  })

  test('a room a socket opened but nobody wrote is 404 and is not loaded twice', async () => {
    const client = connectProvider(s.url, 'empty-but-open')
    await synced(client)
    const loaded = await metric(s, 'plait_loaded_rooms')
    assert.equal((await fetch(`${s.http}/api/rooms/empty-but-open/state`)).status, 404)
    assert.equal(await metric(s, 'plait_loaded_rooms'), loaded)
    client.destroy()
  })
})

describe('connections that never finish their headers', () => {
  test('are answered 408 and closed within the header timeout', async () => {
    await withServer({ limits: { headersTimeoutMs: 500, requestTimeoutMs: 1000 } }, async (s) => {
      const held = await openHalfOpen(s.port, '127.0.0.1', 200)
      await openConnections(s, 201, 'all 200 counted (and the scrape)')
      await waitFor(() => held.every((h) => h.closedAt !== null), 'the server to close them', 5000)
      const longest = Math.max(...held.map((h) => (h.closedAt as number) - h.openedAt))
      assert.ok(longest < 1500, `held for at most ${longest} ms with a 500 ms header timeout`)
      assert.ok(held.every((h) => h.received.startsWith('HTTP/1.1 408')))
      await openConnections(s, 1, 'only the scrape to be left')
      assert.equal((await getFrom(s.port, '/healthz')).status, 200)
    })
  })

  test('from one address are capped, and another address is still served', async () => {
    await withServer({ limits: { maxHttpConnectionsPerIp: 50 } }, async (s) => {
      const held = await openHalfOpen(s.port, '127.0.0.1', 80)
      await waitFor(() => held.filter((h) => h.closedAt !== null).length === 30, '30 refusals', 5000)
      const refused = held.filter((h) => h.closedAt !== null)
      assert.ok(refused.every((h) => h.received.startsWith('HTTP/1.1 429')))
      const fromElsewhere = await getFrom(s.port, '/healthz', '127.0.0.2')
      assert.equal(fromElsewhere.status, 200, 'another client is not affected')
      assert.equal((await getFrom(s.port, '/healthz', '127.0.0.1')).status, 429, 'this address is at its cap')
      await openConnections(s, 51, 'the 50 held (and the scrape)')
      assert.equal(
        await metricValue(s.port, 'plait_http_connections_refused_total{reason="per-address"}'),
        31,
      )
      for (const h of held) h.socket.destroy()
      await eventually(healthyFrom(s, '127.0.0.1'), 'the address to be served once its connections closed')
    })
  })

  test('are capped in all, whatever their address', async () => {
    await withServer({ limits: { maxHttpConnections: 20 } }, async (s) => {
      const held = await openHalfOpen(s.port, '127.0.0.1', 20)
      assert.equal((await getFrom(s.port, '/healthz', '127.0.0.2')).status, 503)
      assert.equal(held.filter((h) => h.closedAt !== null).length, 0)
      for (const h of held) h.socket.destroy()
      await eventually(healthyFrom(s, '127.0.0.2'), 'the server to serve again once they closed')
      const refused = await metricValue(s.port, 'plait_http_connections_refused_total{reason="total"}')
      assert.ok(refused >= 1, `refusals counted (${refused})`)
    })
  })

  test('that upgrade to WebSocket leave the HTTP count', async () => {
    await withServer({ limits: { maxHttpConnectionsPerIp: 3 } }, async (s) => {
      const sockets: RawClient[] = []
      for (let i = 0; i < 10; i++) {
        const raw = new RawClient(`${s.url}/upgraded`)
        sockets.push(raw)
        await raw.opened
      }
      assert.equal(await metricValue(s.port, 'plait_open_sockets'), 10)
      await openConnections(s, 1, 'the upgraded sockets to have left the count')
      for (const raw of sockets) raw.close()
    })
  })

  test('from a trusted proxy count only towards the total', async () => {
    await withServer({ trustedProxies: ['127.0.0.3'], limits: { maxHttpConnectionsPerIp: 5 } }, async (s) => {
      const held = await openHalfOpen(s.port, '127.0.0.3', 20)
      assert.equal((await getFrom(s.port, '/healthz', '127.0.0.3')).status, 200)
      assert.equal(held.filter((h) => h.closedAt !== null).length, 0, 'none refused')
      for (const h of held) h.socket.destroy()
    })
  })
})

describe('the HTTP connection options', () => {
  test('take durations and counts, and a header timeout may not outlast the request timeout', () => {
    const config = loadConfig(['--headers-timeout', '5s', '--max-http-connections-per-ip', '64'], {
      REQUEST_TIMEOUT: '20s',
      MAX_HTTP_CONNECTIONS: '1000',
    })
    assert.ok(config !== 'help')
    assert.equal(config.headersTimeoutMs, 5000)
    assert.equal(config.requestTimeoutMs, 20_000)
    assert.equal(config.maxHttpConnectionsPerIp, 64)
    assert.equal(config.maxHttpConnections, 1000)
    assert.throws(
      () => loadConfig(['--headers-timeout', '1m', '--request-timeout', '30s'], {}),
      /--headers-timeout must not be longer than --request-timeout/,
    )
    assert.throws(() => loadConfig(['--max-http-connections', '0'], {}), /greater than 0/)
  })
})
