// Upgrades refused before a socket exists are refused by plait (and counted), whoever would have
// refused them; behind a trusted proxy the per-address limits apply to each client, not the proxy.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { describe, test } from 'node:test'
import { RawClient } from './helpers/clients.js'
import { metricValue } from './helpers/raw-http.js'
import { removeDir, startServer } from './helpers/server.js'

const goodHandshake = {
  Connection: 'Upgrade',
  Upgrade: 'websocket',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
}

/** The HTTP status of an upgrade attempt from `from` with these headers (and method). */
function upgrade(
  port: number,
  headers: Record<string, string>,
  options: { from?: string; method?: string } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/room',
      method: options.method ?? 'GET',
      localAddress: options.from ?? '127.0.0.1',
      agent: false,
      headers,
    })
    req.on('upgrade', (_res, socket) => {
      socket.destroy()
      resolve(101)
    })
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('a bad WebSocket handshake', () => {
  test('is refused with 400 by plait and counted as bad-handshake', async () => {
    const s = await startServer()
    try {
      const bad: [string, Record<string, string>, string?][] = [
        ['a short key', { ...goodHandshake, 'Sec-WebSocket-Key': 'c2hvcnQ=' }],
        ['no key', { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' }],
        ['version 7', { ...goodHandshake, 'Sec-WebSocket-Version': '7' }],
        ['another protocol', { ...goodHandshake, Upgrade: 'h2c' }],
        ['a POST', goodHandshake, 'POST'],
      ]
      for (const [what, headers, method] of bad) {
        assert.equal(await upgrade(s.port, headers, { method }), 400, what)
      }
      assert.equal(await upgrade(s.port, goodHandshake), 101, 'a good one still opens')
      assert.equal(
        await metricValue(s.port, 'plait_upgrades_rejected_total{reason="bad-handshake"}'),
        bad.length,
      )
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})

describe('behind a trusted proxy', () => {
  test('each forwarded client has its own socket limit; an untrusted peer cannot claim one', async () => {
    const s = await startServer({ trustedProxies: ['127.0.0.3'], limits: { maxSocketsPerIp: 2 } })
    const open: RawClient[] = []
    const connect = async (from: string, forwardedFor: string) => {
      const raw = new RawClient(`${s.url}/room`, {
        localAddress: from,
        headers: { 'X-Forwarded-For': forwardedFor },
      })
      open.push(raw)
      await raw.opened
    }
    try {
      // Two users through the proxy: two sockets each, though the proxy holds four.
      for (const user of ['198.51.100.1', '198.51.100.1', '198.51.100.2', '198.51.100.2']) {
        await connect('127.0.0.3', user)
      }
      const viaProxy = { ...goodHandshake, 'X-Forwarded-For': '198.51.100.1' }
      assert.equal(
        await upgrade(s.port, viaProxy, { from: '127.0.0.3' }),
        429,
        'the first user is at its limit',
      )
      const third = { ...goodHandshake, 'X-Forwarded-For': '198.51.100.3' }
      assert.equal(await upgrade(s.port, third, { from: '127.0.0.3' }), 101, 'a third user is not')
      // A client that is not a proxy writing the header is still itself.
      await connect('127.0.0.4', '198.51.100.9')
      await connect('127.0.0.4', '198.51.100.10')
      const spoofed = { ...goodHandshake, 'X-Forwarded-For': '198.51.100.11' }
      assert.equal(await upgrade(s.port, spoofed, { from: '127.0.0.4' }), 429)
    } finally {
      for (const raw of open) raw.close()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})
