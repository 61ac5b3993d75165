// Several plait nodes on one Redis and one PostgreSQL (issue 18): any node serves any room, and what one
// accepts reaches every client of the room on every node, presence included.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Awareness } from 'y-protocols/awareness'
import { connectProvider, synced, waitFor } from './helpers/clients.js'
import { type ClusterServices, clusterSkip, startNode, startServices } from './helpers/cluster.js'
import type { TestServer } from './helpers/server.js'

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
})
