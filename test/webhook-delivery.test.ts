// Webhook delivery when the receiver misbehaves: retries with the same id, an outbox that outlives a
// restart, bounds on the queue, and rooms that never wait for a receiver. Real parts throughout.
import assert from 'node:assert/strict'
import { appendFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { verifyWebhook } from '../server/index.js'
import { createLogger } from '../server/logger.js'
import { retryDelay } from '../server/webhooks/backoff.js'
import { Outbox } from '../server/webhooks/outbox.js'
import { connectProvider, sleep, synced, waitFor } from './helpers/clients.js'
import { PlaitProcess } from './helpers/plait-process.js'
import { freePort, removeDir, startServer, tempDir } from './helpers/server.js'
import {
  eventOf,
  fastWebhooks as fast,
  webhookSecret as secret,
  WebhookReceiver,
} from './helpers/webhook-receiver.js'

describe('webhook delivery', () => {
  test('a receiver that fails twice (500, then no answer) gets the event on the third try, same id and body', async () => {
    const receiver = new WebhookReceiver([500, 'hang', 200])
    const s = await startServer({ ...fast({ timeoutMs: 300, url: await receiver.listen() }) })
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
    const options = fast({
      debounceMs: 60_000,
      maxWaitMs: 60_000,
      text: 't',
      url: `http://127.0.0.1:${port}/hook`,
    })
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

  test('an event queued before a kill -9 is delivered by the next start of the plait command', async () => {
    const hookPort = await freePort()
    const receiver = new WebhookReceiver()
    const args = ['--webhook-url', `http://127.0.0.1:${hookPort}/hook`, '--webhook-secret', secret]
    args.push('--webhook-debounce', '20ms', '--webhook-retry-base', '50ms', '--webhook-retry-max', '200ms')
    const plait = new PlaitProcess(await freePort(), args)
    const failedAttempts = async () => {
      const metrics = await (await fetch(`${plait.url}/metrics`)).text()
      return Number(/plait_webhook_deliveries_total\{result="failed"\} (\d+)/.exec(metrics)?.[1] ?? 0)
    }
    try {
      await plait.start()
      const a = connectProvider(plait.wsUrl, 'crashed')
      await synced(a)
      a.text.insert(0, 'before the crash')
      // An attempt is made only once the event is fsynced in the outbox.
      const deadline = Date.now() + 10_000
      while ((await failedAttempts()) === 0) {
        if (Date.now() > deadline) throw new Error(`no delivery attempt within 10 s:\n${plait.output}`)
        await sleep(20)
      }
      a.destroy()
      await plait.crash()
      await receiver.listen(hookPort)
      await plait.start()
      await waitFor(() => receiver.delivered.length === 1, 'the event from before the crash')
      const { headers, body } = receiver.delivered[0]
      assert.equal(eventOf(body).room, 'crashed')
      assert.equal(verifyWebhook(secret, headers, body).ok, true)
    } finally {
      await plait.dispose()
      await receiver.close()
    }
  })

  test('a receiver that never answers does not slow the room: edits keep flowing between two clients', async () => {
    const receiver = new WebhookReceiver([], 'hang')
    const s = await startServer({
      ...fast({
        debounceMs: 10,
        maxWaitMs: 20,
        retryBaseMs: 10,
        timeoutMs: 100,
        url: await receiver.listen(),
      }),
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
    const s = await startServer(
      fast({
        debounceMs: 10,
        maxWaitMs: 10,
        maxQueue: 2,
        expiryMs: 400,
        url: `http://127.0.0.1:${port}/nobody-listens`,
      }),
    )
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

  test('the outbox keeps what is not done, skips a torn last line, and compacts to the live entries', async () => {
    const dir = tempDir()
    const log = createLogger('silent')
    const entry = (id: string) => ({ id, room: 'r', createdAt: Date.now(), body: `{"id":"${id}"}` })
    try {
      const first = new Outbox(dir, log)
      assert.deepEqual(await first.open(), [])
      await Promise.all([first.append([entry('a')]), first.append([entry('b')]), first.append([entry('c')])])
      await first.remove(['b'])
      await first.close()
      // A crash in the middle of a line.
      appendFileSync(first.path, '{"add":{"id":"d","ro')

      const second = new Outbox(dir, createLogger('silent'))
      const left = await second.open()
      assert.deepEqual(
        left.map((e) => e.id),
        ['a', 'c'],
      )
      assert.equal(left[0].body, '{"id":"a"}', 'the body is kept byte for byte')
      await second.close()
      const lines = readFileSync(second.path, 'utf8').trim().split('\n')
      assert.equal(lines.length, 2, 'rewritten with only the live entries')
    } finally {
      removeDir(dir)
    }
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
