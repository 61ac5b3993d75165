// Which address a request comes from, over real HTTP from several loopback addresses: forwarding headers
// count only when the TCP peer is a trusted proxy.
import assert from 'node:assert/strict'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { ConfigError } from '../server/cli/config.js'
import { clientAddress, normalizeAddress, TrustedProxies } from '../server/gateway/client-address.js'

describe('the client address', () => {
  let server: Server
  let port: number
  const proxies = new TrustedProxies(['127.0.0.2', '10.0.0.0/8', 'fd00::/8'])
  before(async () => {
    server = createServer((req, res) => res.end(clientAddress(req, proxies)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  /** The address the server sees for a request from `from` with `headers`. */
  const seenFrom = (from: string, headers: Record<string, string | string[]> = {}) =>
    new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, localAddress: from, headers, agent: false }, (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => {
          body += chunk
        })
        res.on('end', () => resolve(body))
      })
      req.on('error', reject)
      req.end()
    })

  test('is the TCP peer when the peer is not a trusted proxy, whatever the headers say', async () => {
    assert.equal(await seenFrom('127.0.0.1'), '127.0.0.1')
    assert.equal(await seenFrom('127.0.0.1', { 'X-Forwarded-For': '203.0.113.9' }), '127.0.0.1')
    assert.equal(await seenFrom('127.0.0.3', { Forwarded: 'for=203.0.113.9' }), '127.0.0.3')
  })

  test('behind a trusted proxy, is the rightmost X-Forwarded-For address that is not a proxy', async () => {
    const via = (xff: string | string[]) => seenFrom('127.0.0.2', { 'X-Forwarded-For': xff })
    assert.equal(await via('203.0.113.9'), '203.0.113.9')
    // The leftmost entries are what the client wrote; only the hops our proxies appended count.
    assert.equal(await via('6.6.6.6, 203.0.113.9'), '203.0.113.9')
    assert.equal(await via('6.6.6.6, 203.0.113.9, 10.1.2.3'), '203.0.113.9', 'past an inner proxy')
    assert.equal(await via(['6.6.6.6', '203.0.113.9, 10.1.2.3']), '203.0.113.9', 'repeated headers')
    assert.equal(await via('2001:db8::1, fd00::5'), '2001:db8::1', 'IPv6 and an IPv6 proxy range')
    assert.equal(await via('10.0.0.7, 10.0.0.8'), '10.0.0.7', 'only proxies: the farthest one')
    assert.equal(await via('203.0.113.9, not-an-address'), '127.0.0.2', 'garbage stops at the proxy')
    assert.equal(await via('::ffff:198.51.100.4'), '198.51.100.4')
    assert.equal(await seenFrom('127.0.0.2'), '127.0.0.2', 'no header: the proxy itself')
  })

  test('behind a trusted proxy without X-Forwarded-For, Forwarded: for= is read', async () => {
    const via = (forwarded: string) => seenFrom('127.0.0.2', { Forwarded: forwarded })
    assert.equal(await via('for=203.0.113.9;proto=https'), '203.0.113.9')
    assert.equal(await via('for=6.6.6.6, for="[2001:db8:cafe::17]:4711"'), '2001:db8:cafe::17')
    assert.equal(await via('for="198.51.100.4:8080";by=10.0.0.1, for=10.9.9.9'), '198.51.100.4')
    assert.equal(await via('for=unknown'), '127.0.0.2')
    assert.equal(
      await seenFrom('127.0.0.2', { Forwarded: 'for=6.6.6.6', 'X-Forwarded-For': '203.0.113.9' }),
      '203.0.113.9',
      'X-Forwarded-For wins when both are sent',
    )
  })
})

describe('trusted proxy lists', () => {
  test('take addresses and CIDR ranges of both families', () => {
    const proxies = new TrustedProxies(['192.168.1.1', '172.16.0.0/12', '::1', '2001:db8::/32'])
    assert.equal(proxies.has('192.168.1.1'), true)
    assert.equal(proxies.has('192.168.1.2'), false)
    assert.equal(proxies.has('172.31.255.255'), true)
    assert.equal(proxies.has('172.32.0.0'), false)
    assert.equal(proxies.has('::1'), true)
    assert.equal(proxies.has('2001:DB8:ffff::1'), true)
    assert.equal(proxies.has('2001:db9::1'), false)
    assert.equal(proxies.has('::ffff:192.168.1.1'), true, 'an IPv4 peer on a dual-stack socket')
    assert.equal(new TrustedProxies([]).has('127.0.0.1'), false, 'none by default')
  })

  test('refuse entries that are not addresses with a sentence naming the option', () => {
    for (const bad of ['proxy.example', '10.0.0.0/33', '10.0.0.1/8/1', '::1/129', '10.0.0.0/x']) {
      assert.throws(
        () => new TrustedProxies([bad]),
        (e: Error) => e instanceof ConfigError && e.message.includes('--trusted-proxies'),
        bad,
      )
    }
  })

  test('normalize mapped IPv4 and zones', () => {
    assert.equal(normalizeAddress('::ffff:10.0.0.1'), '10.0.0.1')
    assert.equal(normalizeAddress('fe80::1%eth0'), 'fe80::1')
  })
})
