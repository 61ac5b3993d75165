// Webhooks end to end: a real plait server, stock y-websocket providers making the edits, and a real HTTP
// receiver on loopback that answers as each test scripts it.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import WebSocket from 'ws'
import { createAuthWebSocket } from '../client/index.js'
import { ConfigError, loadConfig } from '../server/cli/config.js'
import { mintToken } from '../server/cli/token-command.js'
import { verifyWebhook } from '../server/index.js'
import { createServer } from '../server/server.js'
import { retryDelay } from '../server/webhooks/backoff.js'
import type { WebhookEvent } from '../server/webhooks/payload.js'
import { connectProvider, sleep, synced, waitFor } from './helpers/clients.js'
import { freePort, removeDir, startServer, tempDir } from './helpers/server.js'
import { WebhookReceiver } from './helpers/webhook-receiver.js'

const secret = 'webhook-secret-webhook-secret'
/** Short waits so a test runs in a second or two. */
const fast = { webhookSecret: secret, webhookDebounceMs: 100, webhookMaxWaitMs: 1000, webhookRetryBaseMs: 50 }
const eventOf = (body: string) => JSON.parse(body) as WebhookEvent

describe('webhooks', () => {
  test('a change is delivered with its room, the verified user and the text, signed so verifyWebhook accepts it', async () => {
    const receiver = new WebhookReceiver()
    const url = await receiver.listen()
    const authSecret = 'auth-secret-auth-secret-auth-secret'
    const s = await startServer({ ...fast, authSecret, webhookUrl: url, webhookText: 't' })
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
    const s = await startServer({ ...fast, webhookDebounceMs: 300, webhookUrl: await receiver.listen() })
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

  test('a room edited without pause still reports within the max wait', async () => {
    const receiver = new WebhookReceiver()
    const maxWait = 600
    const s = await startServer({
      ...fast,
      webhookDebounceMs: 400,
      webhookMaxWaitMs: maxWait,
      webhookUrl: await receiver.listen(),
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

  test('a receiver that fails twice (500, then no answer) gets the event on the third try, same id and body', async () => {
    const receiver = new WebhookReceiver([500, 'hang', 200])
    const s = await startServer({ ...fast, webhookTimeoutMs: 300, webhookUrl: await receiver.listen() })
    const a = connectProvider(s.url, 'flaky')
    try {
      await synced(a)
      a.text.insert(0, 'retry me')
      await waitFor(() => receiver.delivered.length === 1, 'the third attempt to be delivered')
      assert.equal(receiver.requests.length, 3)
      const ids = receiver.requests.map((r) => r.headers['plait-webhook-id'])
      assert.equal(new Set(ids).size, 1, 'every attempt carries the same id')
      assert.equal(new Set(receiver.requests.map((r) => r.body)).size, 1, 'and the same body')
      for (const r of receiver.requests) assert.equal(verifyWebhook(secret, r.headers, r.body).ok, true)
      await waitFor(() => s.server.metrics.webhooksDelivered === 1, 'the delivery to be counted')
      assert.equal(s.server.metrics.webhooksFailed, 2)
      const warnings = s.logs.lines.filter(
        (l) => l.msg === 'webhook delivery failed; retrying' && l.level === 40,
      )
      assert.equal(warnings.length, 1, 'the first failure of a run is a warning, the next ones debug')
      assert.ok(s.logs.lines.some((l) => l.msg === 'webhook receiver answers again'))
    } finally {
      a.destroy()
      await s.stop()
      await receiver.close()
      removeDir(s.dataDir)
    }
  })

  test('an event not yet delivered at a stop is delivered after the restart, once the receiver is up', async () => {
    const port = await freePort()
    const receiver = new WebhookReceiver()
    const dataDir = tempDir()
    // A debounce longer than the test: the batch is still open at the stop, which must flush it.
    const options = {
      ...fast,
      webhookDebounceMs: 60_000,
      webhookMaxWaitMs: 60_000,
      webhookText: 't',
      webhookUrl: `http://127.0.0.1:${port}/hook`,
    }
    const first = await startServer(options, dataDir)
    let changed = 0
    first.server.events.on('changed', () => changed++)
    const a = connectProvider(first.url, 'kept')
    try {
      await synced(a)
      a.text.insert(0, 'across a restart')
      await waitFor(() => changed > 0, 'the change to be durable')
    } finally {
      a.destroy()
    }
    await first.stop()

    await receiver.listen(port)
    const second = await startServer(options, dataDir)
    try {
      await waitFor(() => receiver.delivered.length === 1, 'the event from before the restart')
      const event = eventOf(receiver.requests.at(-1)?.body ?? '')
      assert.equal(event.room, 'kept')
      assert.equal(event.text, 'across a restart', 'the text was read before the rooms closed')
      assert.ok(second.logs.lines.some((l) => l.msg === 'webhooks: resuming undelivered events'))
      await waitFor(() => second.server.metrics.webhookQueue === 0, 'the queue to empty')
    } finally {
      await second.stop()
      await receiver.close()
    }
    const live = new Set<string>()
    for (const line of readFileSync(join(dataDir, 'webhooks', 'outbox.jsonl'), 'utf8').split('\n')) {
      if (line === '') continue
      const record = JSON.parse(line) as { add?: { id: string }; done?: string }
      if (record.add) live.add(record.add.id)
      if (record.done) live.delete(record.done)
    }
    assert.equal(live.size, 0, 'the outbox holds nothing once the event is delivered')
    removeDir(dataDir)
  })

  test('a receiver that never answers does not slow the room: edits keep flowing between two clients', async () => {
    const receiver = new WebhookReceiver([], 'hang')
    const s = await startServer({
      ...fast,
      webhookDebounceMs: 10,
      webhookMaxWaitMs: 20,
      webhookRetryBaseMs: 10,
      webhookTimeoutMs: 100,
      webhookUrl: await receiver.listen(),
    })
    const a = connectProvider(s.url, 'lively')
    const b = connectProvider(s.url, 'lively')
    try {
      await synced(a, b)
      let slowest = 0
      for (let i = 0; i < 60; i++) {
        const sent = Date.now()
        a.text.insert(0, 'a')
        await waitFor(() => b.text.length === i + 1, `edit ${i} to reach the other client`, 2000)
        slowest = Math.max(slowest, Date.now() - sent)
      }
      await waitFor(() => s.server.metrics.webhooksFailed >= 2, 'deliveries to keep failing')
      assert.ok(slowest < 1000, `the slowest round trip took ${slowest} ms`)
      assert.ok(s.server.metrics.webhookQueue > 0, 'the events wait in their own queue')
    } finally {
      a.destroy()
      b.destroy()
      await s.stop()
      await receiver.close()
      removeDir(s.dataDir)
    }
  })

  test('past the queue bound the oldest event is dropped, and an old one expires; both are counted', async () => {
    const port = await freePort()
    const s = await startServer({
      ...fast,
      webhookDebounceMs: 10,
      webhookMaxWaitMs: 10,
      webhookMaxQueue: 2,
      webhookExpiryMs: 400,
      webhookUrl: `http://127.0.0.1:${port}/nobody-listens`,
    })
    try {
      for (const room of ['r1', 'r2', 'r3']) {
        const handle = await s.server.openDocument(room)
        await handle.transact((doc) => doc.getText('t').insert(0, room))
        handle.release()
      }
      await waitFor(() => s.server.metrics.webhooksDropped === 1, 'the oldest to be dropped')
      await waitFor(() => s.server.metrics.webhooksExpired === 2, 'the other two to expire')
      assert.equal(s.server.metrics.webhookQueue, 0)
      assert.ok(s.logs.lines.some((l) => String(l.msg).startsWith('webhook dropped undelivered')))
      assert.ok(s.logs.lines.some((l) => String(l.msg).startsWith('webhook expired undelivered')))
    } finally {
      await s.stop()
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
      () => createServer({ webhookUrl: 'http://127.0.0.1:1/hook', dataDir }),
      (error) => error instanceof ConfigError && /--webhook-secret/.test(error.message),
    )
    assert.throws(
      () => createServer({ webhookUrl: 'ftp://127.0.0.1/hook', webhookSecret: secret, dataDir }),
      /http:\/\/ or https:\/\//,
    )
    assert.throws(
      () =>
        createServer({
          webhookUrl: 'http://127.0.0.1:1/hook',
          webhookSecret: secret,
          webhookDebounceMs: 5000,
          webhookMaxWaitMs: 1000,
          dataDir,
        }),
      /--webhook-max-wait/,
    )
    removeDir(dataDir)
  })

  test('retry waits grow from the base, are capped, and are spread by full jitter', () => {
    assert.equal(
      retryDelay(1, 1000, 300_000, () => 1),
      1000,
    )
    assert.equal(
      retryDelay(4, 1000, 300_000, () => 1),
      8000,
    )
    assert.equal(
      retryDelay(30, 1000, 300_000, () => 1),
      300_000,
    )
    assert.equal(
      retryDelay(3, 1000, 300_000, () => 0),
      0,
    )
    assert.equal(
      retryDelay(3, 1000, 300_000, () => 0.5),
      2000,
    )
  })
})
