// plait on a Redis Cluster (three masters of the test's own): each room's keys share one hash slot, so
// the storage contract holds and two nodes share rooms as they do on one Redis.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Redis } from 'ioredis'
import type { Awareness } from 'y-protocols/awareness'
import { roomKeys } from '../persistence/cluster/redis-keys.js'
import { describeStoreContract } from '../persistence/contract.js'
import { connectProvider, synced, waitFor } from './helpers/clients.js'
import { clusterContractSubject, clusterSkip } from './helpers/cluster.js'
import type { PostgresServer } from './helpers/postgres-server.js'
import { startPostgres } from './helpers/postgres-server.js'
import { type RedisCluster, redisClusterSkipReason, startRedisCluster } from './helpers/redis-cluster.js'
import { unmet } from './helpers/requirements.js'
import { startServer, type TestServer } from './helpers/server.js'

const skip = clusterSkip || unmet(redisClusterSkipReason())

if (skip !== false) {
  test('plait on a Redis Cluster', { skip }, () => {})
} else {
  let redis: RedisCluster
  let postgres: PostgresServer
  before(async () => {
    ;[redis, postgres] = await Promise.all([startRedisCluster(3), startPostgres()])
  })
  after(async () => {
    await Promise.all([redis?.dispose(), postgres?.dispose()])
  })

  describeStoreContract('ClusterStore on a Redis Cluster of three masters', () =>
    clusterContractSubject(redis.url, postgres),
  )

  describe('two plait nodes on a Redis Cluster', () => {
    test('rooms in different slots converge across nodes, presence included', async () => {
      const databaseUrl = await postgres.createDatabase()
      const nodes: TestServer[] = []
      for (const nodeId of ['rc1', 'rc2'])
        nodes.push(await startServer({ cluster: { redisUrl: redis.url, databaseUrl, nodeId } }))
      const rooms = ['alpha', 'beta', 'gamma', 'delta']
      const pairs = rooms.map((room) => [
        connectProvider(nodes[0].url, room),
        connectProvider(nodes[1].url, room),
      ])
      try {
        await synced(...pairs.flat())
        for (const [i, [a, b]] of pairs.entries()) {
          a.text.insert(0, `a${i}`)
          b.text.insert(0, `b${i}`)
        }
        await waitFor(
          () => pairs.every(([a, b]) => a.text.length === 4 && a.text.toString() === b.text.toString()),
          'every room to converge across the nodes',
        )
        // The rooms' keys sit on more than one master (redis-cli splits the 16384 slots in three).
        const probe = new Redis(redis.nodes[0].url)
        try {
          const masters = new Set<number>()
          for (const room of rooms) {
            const slot = Number(await probe.cluster('KEYSLOT', roomKeys('plait', room).stream))
            masters.add(Math.min(2, Math.floor(slot / 5462)))
          }
          assert.ok(masters.size >= 2, `the rooms span ${masters.size} masters`)
        } finally {
          probe.disconnect()
        }
        const [a, b] = pairs[0]
        const awareness = a.provider.awareness as Awareness
        awareness.setLocalStateField('user', { name: 'on rc1' })
        await waitFor(
          () => (b.provider.awareness as Awareness).getStates().has(awareness.clientID),
          'presence to cross the nodes',
        )
      } finally {
        for (const client of pairs.flat()) client.destroy()
        for (const node of nodes) await node.stop()
      }
    })
  })
}
