// Start-up warm-up leaves no trace a user could see.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { mintToken } from '../server/cli/token-command.js'
import { removeDir, startServer } from './helpers/server.js'

describe('start-up warm-up', () => {
  // listen() warms Yjs's code paths and the store's first read on throwaway data, so the first real client
  // does not pay for compiling them. It must work behind a prefix and with auth on, and leave no trace a
  // user could see: no socket or room in the metrics, no room stored.
  for (const [name, options] of [
    ['open', {}],
    ['behind a path prefix', { pathPrefix: '/collab' }],
    ['with auth on', { auth: { secret: 'warm-up-test-secret-of-enough-length' } }],
  ] as const) {
    test(name, async () => {
      const s = await startServer(options)
      try {
        const messages = s.logs.lines.map((l) => l.msg)
        assert.ok(messages.includes('warmed up'), `log: ${messages.join(' | ')}`)
        assert.ok(!messages.includes('warm-up skipped'))
        const metrics = await (await fetch(`${s.http}/metrics`)).text()
        assert.match(metrics, /^plait_sockets_opened_total 0$/m)
        assert.match(metrics, /^plait_loaded_rooms 0$/m)
        assert.match(metrics, /^plait_open_sockets 0$/m)
        // With auth on, the listing takes a token that may read every room.
        const secret = 'auth' in options ? options.auth.secret : undefined
        const bearer = secret
          ? await mintToken({ secret, sub: 'ops', docs: { '*': 'read' }, ttlSeconds: 60 })
          : ''
        const listing = await fetch(`${s.http}/api/rooms`, { headers: { Authorization: `Bearer ${bearer}` } })
        assert.deepEqual((await listing.json()).rooms, [], 'no room stored')
      } finally {
        await s.stop()
        removeDir(s.dataDir)
      }
    })
  }
})
