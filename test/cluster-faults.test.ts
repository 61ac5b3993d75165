// What a cluster does when a part of it dies (issue 18): a node killed with -9, Redis restarted, and
// PostgreSQL restarted, each while writers write. Nothing anyone has seen is lost, presence of a dead
// node's clients goes, and the nodes recover by themselves.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { startBalancer } from './helpers/balancer.js'
import { connectProvider, synced, type TestProvider, waitFor } from './helpers/clients.js'
import {
  type ClusterServices,
  clusterSkip,
  startNode,
  startNodeProcess,
  startServices,
} from './helpers/cluster.js'
import type { PlaitProcess } from './helpers/plait-process.js'
import { startRedis } from './helpers/redis-server.js'

/** Writes one marker per call into its own Y.Array, so the test can tell what every writer wrote. */
function writerOf(client: TestProvider, name: string): { write(): void; written: string[] } {
  const list = client.doc.getArray<string>(name)
  const written: string[] = []
  return {
    written,
    write: () => {
      const marker = `${name}-${written.length}`
      written.push(marker)
      list.push([marker])
    },
  }
}

const markersIn = (doc: Y.Doc, name: string) => doc.getArray<string>(name).toArray()

/** Waits until every client holds every marker every writer wrote (writer i writes into `w<i>`). */
async function allWritesReach(clients: TestProvider[], writers: { written: string[] }[]): Promise<void> {
  await waitFor(
    () =>
      clients.every((client) =>
        writers.every((w, i) => markersIn(client.doc, `w${i}`).length === w.written.length),
      ),
    `${clients.length} clients to have every write`,
    30_000,
  )
}

/** Writes with each writer every few ms until `until` resolves, bounded in count. */
async function writeDuring(writers: { write(): void }[], until: Promise<unknown>): Promise<void> {
  let done = false
  until
    .finally(() => {
      done = true
    })
    .catch(() => {})
  for (let i = 0; i < 2000 && !done; i++) {
    for (const writer of writers) writer.write()
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await until
}

describe('a cluster when a part of it fails', { skip: clusterSkip }, () => {
  let services: ClusterServices

  before(async () => {
    services = await startServices()
  })

  after(async () => {
    await services?.dispose()
  })

  test('a node killed with -9: its clients reconnect through the balancer and nothing anyone saw is lost', async () => {
    const nodes: PlaitProcess[] = []
    for (const id of ['k1', 'k2', 'k3']) nodes.push(await startNodeProcess(services, id))
    const alive = new Set(nodes)
    const balancer = await startBalancer(() => [...alive].map((node) => node.port))
    const clients = Array.from({ length: 4 }, () => connectProvider(balancer.wsUrl, 'crash'))
    try {
      await synced(...clients)
      const writers = clients.slice(0, 3).map((client, i) => writerOf(client, `w${i}`))
      const observer = clients[3]
      const victim = nodes[0]
      const killed = (async () => {
        await waitFor(() => writers.every((w) => w.written.length >= 50), 'writes before the kill')
        await victim.crash()
        alive.delete(victim)
        await waitFor(() => writers.every((w) => w.written.length >= 150), 'writes after the kill')
      })()
      await writeDuring(writers, killed)
      const seenByObserver = new Map(writers.map((_, i) => [i, markersIn(observer.doc, `w${i}`)]))
      // Every writer's provider resends what the server may lack when it reconnects: all of it arrives.
      const fresh = connectProvider(`ws://127.0.0.1:${nodes[1].port}`, 'crash')
      try {
        await synced(fresh)
        await waitFor(
          () => writers.every((w, i) => markersIn(fresh.doc, `w${i}`).length === w.written.length),
          'every write to be in the room on a surviving node',
          30_000,
        )
        for (const [i, writer] of writers.entries()) {
          const stored = new Set(markersIn(fresh.doc, `w${i}`))
          for (const marker of writer.written) assert.ok(stored.has(marker), `${marker} is kept`)
          for (const marker of seenByObserver.get(i) ?? [])
            assert.ok(stored.has(marker), `${marker} was seen`)
        }
      } finally {
        fresh.destroy()
      }
    } finally {
      for (const client of clients) client.destroy()
      await balancer.close()
      for (const node of nodes) await node.dispose()
    }
  })

  test('presence of a killed node’s clients is removed on the other nodes within seconds', async () => {
    const [a, b] = [await startNodeProcess(services, 'p1'), await startNodeProcess(services, 'p2')]
    const onA = connectProvider(a.wsUrl, 'presence')
    const onB = connectProvider(b.wsUrl, 'presence')
    try {
      await synced(onA, onB)
      const awarenessA = onA.provider.awareness as Awareness
      awarenessA.setLocalStateField('user', { name: 'on a' })
      const seenOnB = () => (onB.provider.awareness as Awareness).getStates().has(awarenessA.clientID)
      await waitFor(seenOnB, 'b’s client to see a’s')
      // Killed with its client still connected: no leave reaches b, only the silence of a dead node.
      await a.crash()
      const killedAt = Date.now()
      // y-protocols itself drops a silent state after 30 s; the cluster must be much quicker.
      await waitFor(() => !seenOnB(), 'the dead node’s presence to go', 10_000)
      assert.ok(Date.now() - killedAt < 10_000)
    } finally {
      onA.destroy()
      onB.destroy()
      await a.dispose()
      await b.dispose()
    }
  })

  test('Redis restarted while two nodes take writes: not ready meanwhile, then every write is kept', async () => {
    const nodes = [await startNode(services, 'r1'), await startNode(services, 'r2')]
    const clients = nodes.map((node) => connectProvider(node.url, 'redis-restart'))
    try {
      await synced(...clients)
      const writers = clients.map((client, i) => writerOf(client, `w${i}`))
      const restarted = (async () => {
        await waitFor(() => writers[0].written.length >= 30, 'writes before the restart')
        await services.redis.stop()
        await waitFor(() => nodes.every((n) => !n.server.isReady()), 'the nodes to say not ready', 15_000)
        const ready = await fetch(`${nodes[0].http}/readyz`)
        assert.equal(ready.status, 503)
        const { reason } = (await ready.json()) as { reason: string }
        assert.match(reason, /Redis at redis:\/\/127\.0\.0\.1:\d+ is not connected/, 'the reason names Redis')
        await services.redis.start()
        await waitFor(() => nodes.every((n) => n.server.isReady()), 'the nodes to recover', 30_000)
        await waitFor(() => writers[0].written.length >= 200, 'writes after the restart')
      })()
      await writeDuring(writers, restarted)
      await allWritesReach(clients, writers)
      const fresh = connectProvider(nodes[1].url, 'redis-restart')
      try {
        await synced(fresh)
        await allWritesReach([fresh], writers)
      } finally {
        fresh.destroy()
      }
    } finally {
      for (const client of clients) client.destroy()
      for (const node of nodes) await node.stop().catch(() => {})
      // Running again for the next test, whatever happened midway.
      await services.redis.start().catch(() => {})
    }
  })

  test('PostgreSQL restarted while two nodes take writes and compact: every write is kept', async () => {
    const nodes = [
      await startNode(services, 'g1', { compactEntries: 20 }),
      await startNode(services, 'g2', { compactEntries: 20 }),
    ]
    const clients = nodes.map((node) => connectProvider(node.url, 'pg-restart'))
    try {
      await synced(...clients)
      const writers = clients.map((client, i) => writerOf(client, `w${i}`))
      const restarted = (async () => {
        await waitFor(() => writers[0].written.length >= 30, 'writes before the restart')
        await services.postgres.stop()
        await waitFor(() => nodes.some((n) => !n.server.isReady()), 'a node to say not ready', 15_000)
        const down = await fetch(`${nodes.find((n) => !n.server.isReady())?.http}/readyz`)
        const { reason } = (await down.json()) as { reason: string }
        assert.match(reason, /PostgreSQL/, `the reason names PostgreSQL: ${reason}`)
        await services.postgres.start()
        await waitFor(() => nodes.every((n) => n.server.isReady()), 'the nodes to recover', 30_000)
        await waitFor(() => writers[0].written.length >= 200, 'writes after the restart')
      })()
      await writeDuring(writers, restarted)
      await allWritesReach(clients, writers)
      await waitFor(
        () => nodes.some((n) => n.server.metrics.compactions > 0),
        'a compaction after the restart',
      )
    } finally {
      for (const client of clients) client.destroy()
      for (const node of nodes) await node.stop().catch(() => {})
      await services.postgres.start().catch(() => {})
    }
  })

  test('Redis restarted empty (no AOF): the nodes still holding a room write it back whole', async () => {
    const redis = await startRedis({ appendfsync: 'no-persistence' })
    const volatile = { ...services, redis, databaseUrl: await services.postgres.createDatabase() }
    const nodes = [await startNode(volatile, 'v1'), await startNode(volatile, 'v2')]
    const writer = connectProvider(nodes[0].url, 'volatile')
    const reader = connectProvider(nodes[1].url, 'volatile')
    try {
      await synced(writer, reader)
      const writes = writerOf(writer, 'w')
      for (let i = 0; i < 50; i++) writes.write()
      await waitFor(() => markersIn(reader.doc, 'w').length === 50, 'the reader to see 50 writes')
      // The writer is gone: only the two nodes (and the reader) hold its edits, none in PostgreSQL yet.
      writer.destroy()
      await redis.kill()
      await redis.start()
      await waitFor(() => nodes.every((n) => n.server.isReady()), 'the nodes to be ready again', 30_000)
      const third = await startNode(volatile, 'v3')
      const late = connectProvider(third.url, 'volatile')
      try {
        await synced(late)
        await waitFor(
          () => markersIn(late.doc, 'w').length === 50,
          'a new node to load all 50 writes',
          20_000,
        )
      } finally {
        late.destroy()
        await third.stop()
      }
    } finally {
      writer.destroy()
      reader.destroy()
      for (const node of nodes) await node.stop().catch(() => {})
      await redis.dispose()
    }
  })
})
