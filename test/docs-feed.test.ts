// The change feed, GET /api/docs/:room/events: a client's edit arrives with its origin and the new text,
// Last-Event-ID resumes with exactly the missed changes (or the whole state when they are gone),
// heartbeats keep it alive, and closing it frees its place.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as Y from 'yjs'
import { connectProvider, synced, type TestProvider, waitFor } from './helpers/clients.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'
import { SseClient } from './helpers/sse.js'

const feedOf = (s: TestServer, room: string, query = '', headers: Record<string, string> = {}) =>
  new SseClient(`${s.http}/api/docs/${encodeURIComponent(room)}/events${query}`, headers)

const decode = (base64: unknown) => new Uint8Array(Buffer.from(base64 as string, 'base64'))

/** Types `text` at the end, one edit per change, each waited for on `feed`. */
async function typeEach(client: TestProvider, feed: SseClient | null, text: string, s: TestServer) {
  for (const char of text) {
    const seen = feed?.events.length ?? 0
    const persisted = s.server.metrics.updatesPersisted
    client.text.insert(client.text.length, char)
    if (feed) await waitFor(() => feed.events.length > seen, `the feed to get "${char}"`)
    else await waitFor(() => s.server.metrics.updatesPersisted > persisted, `"${char}" to be stored`)
  }
}

describe('the change feed', () => {
  let s: TestServer
  let client: TestProvider
  before(async () => {
    s = await startServer({ feeds: { heartbeatMs: 100, ringChanges: 4, maxFeeds: 3 } })
    client = connectProvider(s.url, 'feed/doc')
    await synced(client)
  })
  after(async () => {
    client.destroy()
    await s.stop()
    removeDir(s.dataDir)
  })

  test("a client's edit arrives with its origin and the named Y.Text's new text", async () => {
    const feed = feedOf(s, 'feed/doc', '?text=t')
    try {
      assert.equal(await feed.opened, 200)
      await typeEach(client, feed, 'hi', s)
      const [first, second] = feed.data()
      assert.equal(second.text, 'hi')
      assert.equal(first.text, 'h')
      const [origin] = first.origins as { kind: string; userId: unknown; connectionId: unknown }[]
      assert.equal(origin.kind, 'client')
      assert.equal(origin.userId, null)
      assert.equal(typeof origin.connectionId, 'number')
      const doc = new Y.Doc()
      for (const event of feed.data()) Y.applyUpdate(doc, decode(event.update))
      assert.equal(doc.getText('t').toString(), 'hi', 'the updates rebuild the change')
      const ids = feed.events.map((e) => e.id)
      assert.equal(new Set(ids).size, 2, 'each event has its own id')
    } finally {
      feed.close()
    }
  })

  test('a resume with Last-Event-ID gets exactly the changes it missed', async () => {
    const feed = feedOf(s, 'feed/doc')
    await feed.opened
    await typeEach(client, feed, 'a', s)
    const lastSeen = feed.events.at(-1)?.id as string
    const seenState = Y.encodeStateAsUpdate(client.doc)
    feed.close()
    await typeEach(client, null, 'bcd', s)
    const resumed = feedOf(s, 'feed/doc', '', { 'Last-Event-ID': lastSeen })
    try {
      await resumed.opened
      await waitFor(() => resumed.events.length >= 3, 'the missed changes')
      await new Promise((r) => setTimeout(r, 200))
      const events = resumed.data()
      assert.equal(events.length, 3, 'exactly the three missed changes, nothing twice')
      assert.ok(events.every((e) => e.full === undefined))
      const doc = new Y.Doc()
      Y.applyUpdate(doc, seenState)
      for (const e of events) Y.applyUpdate(doc, decode(e.update))
      assert.equal(
        doc.getText('t').toString(),
        client.text.toString(),
        'they complete what the client had seen',
      )
      await typeEach(client, resumed, 'e', s)
      assert.equal(resumed.data().length, 4, 'and then it is live')
    } finally {
      resumed.close()
    }
  })

  test('a resume older than the ring, or from an unknown id, starts with the whole state marked full', async () => {
    const feed = feedOf(s, 'feed/doc')
    await feed.opened
    await typeEach(client, feed, 'f', s)
    const lastSeen = feed.events.at(-1)?.id as string
    feed.close()
    await typeEach(client, null, 'ghijkl', s)
    for (const lastEventId of [lastSeen, 'not-an-id']) {
      const resumed = feedOf(s, 'feed/doc', '?text=t', { 'Last-Event-ID': lastEventId })
      try {
        await resumed.opened
        await waitFor(() => resumed.events.length >= 1, 'the full state')
        const [full] = resumed.data()
        assert.equal(full.full, true)
        const doc = new Y.Doc()
        Y.applyUpdate(doc, decode(full.update))
        assert.equal(doc.getText('t').toString(), client.text.toString())
        assert.equal(full.text, client.text.toString())
        await typeEach(client, resumed, 'm', s)
        assert.equal(resumed.data()[1].text, client.text.toString(), 'then live changes with the text')
      } finally {
        resumed.close()
      }
    }
  })

  test('heartbeats arrive while nothing changes', async () => {
    const feed = feedOf(s, 'feed/quiet')
    try {
      assert.equal(await feed.opened, 200)
      await waitFor(() => feed.comments.includes('heartbeat'), 'a heartbeat', 2000)
    } finally {
      feed.close()
    }
  })

  test('open feeds are bounded, and closing one frees its place', async () => {
    const feeds = [feedOf(s, 'feed/a'), feedOf(s, 'feed/b'), feedOf(s, 'feed/c')]
    try {
      for (const feed of feeds) assert.equal(await feed.opened, 200)
      const refused = await fetch(`${s.http}/api/docs/feed%2Fd/events`)
      assert.equal(refused.status, 503)
      assert.equal((await refused.json()).error, 'unavailable')
      feeds[0].close()
      let status = 0
      for (let i = 0; i < 50 && status !== 200; i++) {
        const retry = feedOf(s, 'feed/d')
        status = await retry.opened
        if (status === 200) feeds.push(retry)
        else await new Promise((r) => setTimeout(r, 50))
      }
      assert.equal(status, 200, 'the closed feed unsubscribed')
    } finally {
      for (const feed of feeds) feed.close()
    }
  })

  test('deleting the document ends its feeds with a deleted event', async () => {
    const doomed = connectProvider(s.url, 'feed/doomed')
    const feed = feedOf(s, 'feed/doomed')
    try {
      await synced(doomed)
      await feed.opened
      await typeEach(doomed, feed, 'x', s)
      assert.equal((await fetch(`${s.http}/api/docs/feed%2Fdoomed`, { method: 'DELETE' })).status, 204)
      await waitFor(() => feed.events.some((e) => e.event === 'deleted'), 'the deleted event')
      await waitFor(() => feed.ended, 'the feed to end')
    } finally {
      doomed.destroy()
      feed.close()
    }
  })
})
