// Webhooks end to end: a real plait server, stock y-websocket providers making the edits, and a real HTTP
// receiver on loopback. What an event says, how it is signed, and how changes are batched into events.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import WebSocket from 'ws'
import { createAuthWebSocket } from '../client/index.js'
import { loadConfig } from '../server/cli/config.js'
import { mintToken } from '../server/cli/token-command.js'
import { verifyWebhook } from '../server/index.js'
import { ConfigError } from '../server/options/resolve.js'
import { createServer } from '../server/server.js'
import { connectProvider, sleep, synced, waitFor } from './helpers/clients.js'
import { removeDir, startServer, tempDir } from './helpers/server.js'
import {
  eventOf,
  fastWebhooks as fast,
  webhookSecret as secret,
  WebhookReceiver,
} from './helpers/webhook-receiver.js'

describe('webhooks', () => {
  test('a change is delivered with its room, the verified user and the text, signed so verifyWebhook accepts it', async () => {
    const receiver = new WebhookReceiver()
    const url = await receiver.listen()
    const authSecret = 'auth-secret-auth-secret-auth-secret'
    const s = await startServer({ ...fast({ url: url, text: 't' }), auth: { secret: authSecret } })
    const token = await mintToken({
      secret: authSecret,
      sub: 'ada',
      docs: { 'notes/*': 'write' },
      ttlSeconds: 600,
    })
    const ada = connectProvider(s.url, 'notes/today', {
      WebSocketPolyfill: createAuthWebSocket({ token, WebSocket }),
    })
    try {
      await synced(ada)
      ada.text.insert(0, 'hello')
      await waitFor(() => receiver.delivered.length === 1, 'the webhook')
      const [{ headers, body }] = receiver.requests
      const event = eventOf(body)
      assert.equal(event.type, 'document.changed')
      assert.equal(event.room, 'notes/today')
      assert.deepEqual(event.userIds, ['ada'])
      assert.equal(event.origins[0].kind, 'client')
      assert.equal(event.text, 'hello')
      assert.ok(event.changes >= 1)
      assert.ok(event.firstChangeAt <= event.lastChangeAt && event.lastChangeAt <= event.sentAt)
      assert.equal(headers['plait-webhook-id'], event.id)
      assert.equal(headers['content-type'], 'application/json')

      const verdict = verifyWebhook(secret, headers, body)
      assert.deepEqual(verdict, {
        ok: true,
        id: event.id,
        timestamp: Number(headers['plait-webhook-timestamp']),
      })
      const tampered = body.replace('"notes/today"', '"notes/other"')
      assert.deepEqual(verifyWebhook(secret, headers, tampered), { ok: false, reason: 'bad signature' })
      assert.deepEqual(verifyWebhook('another-secret-of-some-length', headers, body), {
        ok: false,
        reason: 'bad signature',
      })
      const later = (Number(headers['plait-webhook-timestamp']) + 301) * 1000
      assert.deepEqual(verifyWebhook(secret, headers, body, later), {
        ok: false,
        reason: 'timestamp outside the replay window',
      })
      assert.deepEqual(verifyWebhook(secret, {}, body), { ok: false, reason: 'missing headers' })
      // Fetch's Headers work too (a receiver on Hono, or any Request).
      const asHeaders = new Headers(headers as Record<string, string>)
      assert.equal(verifyWebhook(secret, asHeaders, body).ok, true)

      await waitFor(() => s.server.metrics.webhookQueue === 0, 'the queue to empty')
      const metrics = await (await fetch(`${s.http}/metrics`)).text()
      assert.match(metrics, /plait_webhook_deliveries_total\{result="delivered"\} 1/)
      assert.match(metrics, /plait_webhook_queue 0/)
    } finally {
      ada.destroy()
      await s.stop()
      await receiver.close()
      removeDir(s.dataDir)
    }
  })

  test('several quick edits make one event; a server edit after it is a second, by "server"', async () => {
    const receiver = new WebhookReceiver()
    const s = await startServer({ ...fast({ debounceMs: 300, url: await receiver.listen() }) })
    const a = connectProvider(s.url, 'batched')
    try {
      await synced(a)
      let changed = 0
      s.server.events.on('changed', () => changed++)
      // One durable change after another, each well within the debounce of the one before.
      for (const [i, word] of ['one ', 'two ', 'three ', 'four '].entries()) {
        a.text.insert(a.text.length, word)
        await waitFor(() => changed === i + 1, `change ${i + 1} to be durable`)
      }
      await waitFor(() => receiver.requests.length === 1, 'the first event')
      const first = eventOf(receiver.requests[0].body)
      assert.equal(first.changes, 4, 'every change is counted in the one event')
      assert.deepEqual(first.userIds, [], 'without auth, clients have no user id')
      const handle = await s.server.openDocument('batched')
      await handle.transact((doc) => doc.getText('t').insert(0, '> '))
      handle.release()
      await waitFor(() => receiver.requests.length === 2, 'the second event')
      const second = eventOf(receiver.requests[1].body)
      assert.deepEqual(second.userIds, ['server'])
      assert.deepEqual(second.origins, [{ kind: 'server' }])
      assert.notEqual(second.id, first.id)
    } finally {
      a.destroy()
      await s.stop()
      await receiver.close()
      removeDir(s.dataDir)
    }
  })

  test('a change relayed from another node is not reported here; the node that made it reports it', async () => {
    const receiver = new WebhookReceiver()
    const s = await startServer({ ...fast({ url: await receiver.listen() }) })
    try {
      const update = new Uint8Array([0, 0])
      s.server.events.emit('changed', { room: 'clustered', update, origins: [{ kind: 'remote', node: 'b' }] })
      const handle = await s.server.openDocument('clustered')
      await handle.transact((doc) => doc.getText('t').insert(0, 'made here'))
      handle.release()
      await waitFor(() => receiver.requests.length === 1, 'the event for the local change')
      const event = eventOf(receiver.requests[0].body)
      assert.deepEqual(event.origins, [{ kind: 'server' }])
      assert.equal(event.changes, 1, 'the relayed change is not counted')
    } finally {
      await s.stop()
      await receiver.close()
      removeDir(s.dataDir)
    }
  })

  test('a room edited without pause still reports within the max wait', async () => {
    const receiver = new WebhookReceiver()
    const maxWait = 600
    const s = await startServer({
      ...fast({ debounceMs: 400, maxWaitMs: maxWait, url: await receiver.listen() }),
    })
    const a = connectProvider(s.url, 'busy')
    try {
      await synced(a)
      const started = Date.now()
      // An edit every 50 ms: the debounce alone would never fire.
      while (receiver.requests.length === 0 && Date.now() - started < 5000) {
        a.text.insert(0, 'x')
        await sleep(50)
      }
      const event = eventOf(receiver.requests[0].body)
      const span = Date.parse(event.lastChangeAt) - Date.parse(event.firstChangeAt)
      assert.ok(span <= maxWait, `the batch spans ${span} ms, at most the max wait`)
      assert.ok(Date.now() - started < maxWait + 1000, 'the event came while the edits went on')
      assert.ok(event.changes > 3)
    } finally {
      a.destroy()
      await s.stop()
      await receiver.close()
      removeDir(s.dataDir)
    }
  })

  test('the options come from flags and environment; a URL without a secret is refused with a sentence', () => {
    const config = loadConfig(['--webhook-url', 'https://example.test/hook', '--webhook-debounce', '500ms'], {
      WEBHOOK_SECRET: secret,
      WEBHOOK_MAX_WAIT: '3s',
      WEBHOOK_TEXT: 'body',
    })
    assert.ok(config !== 'help')
    assert.equal(config.webhookUrl, 'https://example.test/hook')
    assert.equal(config.webhookSecret, secret)
    assert.equal(config.webhookDebounceMs, 500)
    assert.equal(config.webhookMaxWaitMs, 3000)
    assert.equal(config.webhookText, 'body')
    const dataDir = tempDir()
    assert.throws(
      () => createServer({ webhooks: { url: 'http://127.0.0.1:1/hook' }, dataDir }),
      (error) => error instanceof ConfigError && /--webhook-secret/.test(error.message),
    )
    assert.throws(
      () => createServer({ webhooks: { url: 'ftp://127.0.0.1/hook', secret }, dataDir }),
      /http:\/\/ or https:\/\//,
    )
    assert.throws(
      () =>
        createServer({
          webhooks: { url: 'http://127.0.0.1:1/hook', secret, debounceMs: 5000, maxWaitMs: 1000 },
          dataDir,
        }),
      /--webhook-max-wait/,
    )
    removeDir(dataDir)
  })
})
