// Several plait nodes on one Redis and one PostgreSQL (issue 18): any node serves any room, and what one
// accepts reaches every client of the room on every node, presence included.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import pg from 'pg'
import type { Awareness } from 'y-protocols/awareness'
import { roomKeys } from '../persistence/cluster/redis-keys.js'
import { runBackupCommand } from '../server/cli/backup-command.js'
import { connectProvider, synced, type TestProvider, waitFor, waitForAsync } from './helpers/clients.js'
import { type ClusterServices, clusterSkip, startNode, startServices } from './helpers/cluster.js'
import { hocuspocusProvider } from './helpers/hocuspocus.js'
import { removeDir, startServer, type TestServer, tempDir } from './helpers/server.js'

describe('a cluster of plait nodes', { skip: clusterSkip }, () => {
  let services: ClusterServices
  let nodes: TestServer[] = []

  before(async () => {
    services = await startServices()
    nodes = [await startNode(services, 'a'), await startNode(services, 'b'), await startNode(services, 'c')]
  })

  after(async () => {
    for (const node of nodes) await node.stop().catch(() => {})
    await services?.dispose()
  })

  test('stock providers on three nodes converge on one document', async () => {
    const clients = nodes.map((node) => connectProvider(node.url, 'shared'))
    try {
      await synced(...clients)
      for (const [i, client] of clients.entries()) client.text.insert(0, `${'abc'[i]}`)
      const expected = () => clients[0].text.toString()
      await waitFor(
        () => expected().length === 3 && clients.every((c) => c.text.toString() === expected()),
        'every client to see all three edits',
      )
      for (let i = 0; i < 100; i++) clients[i % 3].text.insert(0, 'x')
      await waitFor(
        () => clients.every((c) => c.text.length === 103 && c.text.toString() === expected()),
        'a burst from all three nodes to converge',
      )
      // Each node says what crossed to it, how late, and how far Redis and PostgreSQL are.
      let text = ''
      await waitForAsync(async () => {
        text = await (await fetch(`${nodes[1].http}/metrics`)).text()
        return /^plait_cluster_nodes 3$/m.test(text)
      }, 'the node to have heard from the other two')
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
      assert.ok(value('plait_cluster_updates_in_total') >= 2, 'updates from other nodes are counted')
      assert.ok(value('plait_cluster_delivery_lag_seconds_count') >= 2, 'their lag is measured')
      assert.ok(value('plait_cluster_redis_seconds') >= 0, 'the Redis round trip is reported')
      assert.ok(value('plait_cluster_postgres_seconds') >= 0, 'the PostgreSQL round trip is reported')
    } finally {
      for (const client of clients) client.destroy()
    }
  })

  test('a late joiner on another node gets the document and everyone’s presence', async () => {
    const writer = connectProvider(nodes[0].url, 'late')
    const awareness = writer.provider.awareness as Awareness
    try {
      await synced(writer)
      writer.text.insert(0, 'written on a')
      awareness.setLocalStateField('user', { name: 'ada' })
      const late = connectProvider(nodes[2].url, 'late')
      try {
        await synced(late)
        await waitFor(() => late.text.toString() === 'written on a', 'the late joiner to get the text')
        const seen = () => (late.provider.awareness as Awareness).getStates().get(awareness.clientID)
        await waitFor(() => (seen()?.user as { name?: string } | undefined)?.name === 'ada', 'ada’s presence')
        awareness.setLocalStateField('user', { name: 'ada lovelace' })
        await waitFor(
          () => (seen()?.user as { name?: string } | undefined)?.name === 'ada lovelace',
          'a presence change to cross nodes',
        )
        writer.destroy()
        await waitFor(() => seen() === undefined, 'ada’s presence to go when she leaves')
      } finally {
        late.destroy()
      }
    } finally {
      writer.destroy()
    }
  })

  test('a document deleted on one node closes its clients on every node', async () => {
    const clients = [connectProvider(nodes[0].url, 'doomed'), connectProvider(nodes[1].url, 'doomed')]
    try {
      await synced(...clients)
      clients[0].text.insert(0, 'bye')
      await waitFor(() => clients[1].text.toString() === 'bye', 'the edit to cross')
      const closes: number[] = []
      clients[1].provider.on('connection-close', (event: CloseEvent | null) => {
        if (event) closes.push(event.code)
      })
      const response = await fetch(`${nodes[0].http}/api/docs/doomed`, { method: 'DELETE' })
      assert.equal(response.status, 204)
      await waitFor(() => closes.includes(4404), 'the client on the other node to be closed with 4404')
    } finally {
      for (const client of clients) client.destroy()
    }
  })

  test('compaction under concurrent writers on two nodes keeps every edit and trims the Redis log', async () => {
    const compacting = [
      await startNode(services, 'x', { compactEntries: 20 }),
      await startNode(services, 'y', { compactEntries: 20 }),
    ]
    const writers = compacting.map((node) => connectProvider(node.url, 'compacted'))
    const redis = new Redis(services.redis.url)
    const db = new pg.Client({ connectionString: services.databaseUrl })
    await db.connect()
    try {
      await synced(...writers)
      for (let i = 0; i < 300; i++) {
        for (const [w, writer] of writers.entries()) writer.doc.getArray<string>(`w${w}`).push([`${w}-${i}`])
        // Separate turns, so the log has many entries and compactions run while both nodes write.
        if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      const complete = (doc: TestProvider['doc']) =>
        [0, 1].every((w) => doc.getArray<string>(`w${w}`).length === 300)
      await waitFor(() => writers.every((writer) => complete(writer.doc)), 'both writers to have 600 edits')
      await waitFor(
        () => compacting.every((node) => node.server.metrics.compactions > 0),
        'both nodes to have compacted',
      )
      const { rows } = await db.query<{ through: string }>(
        'SELECT through FROM plait_rooms WHERE name = $1',
        ['compacted'],
      )
      assert.ok(Number(rows[0]?.through) > 0, 'PostgreSQL holds a snapshot')
      const logLength = await redis.xlen(roomKeys('plait', 'compacted').stream)
      assert.ok(logLength < 300, `the Redis log was trimmed (${logLength} entries left)`)
      // A node that never served the room loads it whole from the snapshot and what follows it.
      const reader = connectProvider(nodes[2].url, 'compacted')
      try {
        await synced(reader)
        await waitFor(() => complete(reader.doc), 'a third node to load all 600 edits')
        for (const w of [0, 1])
          assert.deepEqual(
            reader.doc.getArray<string>(`w${w}`).toArray(),
            writers[0].doc.getArray<string>(`w${w}`).toArray(),
          )
      } finally {
        reader.destroy()
      }
    } finally {
      for (const writer of writers) writer.destroy()
      redis.disconnect()
      await db.end()
      for (const node of compacting) await node.stop()
    }
  })

  test('a Hocuspocus provider on one node and a y-websocket provider on another edit together; stateless crosses', async () => {
    const hp = hocuspocusProvider({ url: nodes[0].url }, 'families')
    const yws = connectProvider(nodes[1].url, 'families')
    try {
      await synced(yws)
      hp.text.insert(0, 'from tiptap ')
      await waitFor(() => yws.text.toString() === 'from tiptap ', 'the Hocuspocus edit on the other node')
      yws.text.insert(yws.text.length, 'and y-websocket')
      await waitFor(() => hp.text.toString() === 'from tiptap and y-websocket', 'the y-websocket edit back')
      // Sent on the node the provider is not on: it reaches it through the cluster.
      nodes[1].server.sendStateless('families', 'saved')
      await waitFor(() => hp.stateless.includes('saved'), 'the stateless message from another node')
    } finally {
      hp.destroy()
      yws.destroy()
    }
  })

  test('from one LevelDB server to the cluster: plait export, then plait import into Redis and PostgreSQL', async () => {
    const single = await startServer()
    const file = join(tempDir(), 'backup.ndjson')
    try {
      const writer = connectProvider(single.url, 'moved/ünïcode')
      await synced(writer)
      writer.text.insert(0, 'kept across the move')
      await waitFor(() => single.server.metrics.updatesPersisted > 0, 'the edit on disk')
      writer.destroy()
      const handle = await single.server.openDocument('moved/ünïcode')
      await single.server.versions.create('moved/ünïcode', { name: 'before the move' })
      handle.release()
      await single.stop()
      const quiet = () => {}
      await runBackupCommand('export', ['--data', single.dataDir, '--out', file], quiet)
      const imported = await runBackupCommand(
        'import',
        ['--redis', services.redis.url, '--database', services.databaseUrl, file],
        quiet,
      )
      assert.equal(imported, 'imported 1 rooms and 1 versions')
      const reader = connectProvider(nodes[1].url, 'moved/ünïcode')
      try {
        await synced(reader)
        await waitFor(() => reader.text.toString() === 'kept across the move', 'the node to serve it')
        const versions = await nodes[2].server.versions.list('moved/ünïcode')
        assert.deepEqual(
          versions.map((v) => v.name),
          ['before the move'],
        )
      } finally {
        reader.destroy()
      }
    } finally {
      await single.stop().catch(() => {})
      removeDir(single.dataDir)
    }
  })
})
