// Upgrades refused before a socket exists are refused by plait (and counted), whoever would have
// refused them.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { describe, test } from 'node:test'
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
