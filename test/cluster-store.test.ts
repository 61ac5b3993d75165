// The cluster store (Redis streams and PostgreSQL) passes the storage contract with two writers, as two
// nodes would be, on the test's own redis-server and a fresh database per case.
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { ClusterStore } from '../persistence/cluster/cluster-store.js'
import { describeStoreContract } from '../persistence/contract.js'
import { type ClusterServices, clusterSkip, startServices } from './helpers/cluster.js'

if (clusterSkip !== false) {
  test('the storage contract: ClusterStore', { skip: clusterSkip }, () => {})
} else {
  let services: ClusterServices
  before(async () => {
    services = await startServices()
  })
  after(async () => {
    await services?.dispose()
  })

  describeStoreContract('ClusterStore, two nodes on one Redis and one PostgreSQL', async () => {
    const databaseUrl = await services.postgres.createDatabase()
    const prefix = `c${randomUUID().slice(0, 8)}`
    const node = (nodeId: string) =>
      new ClusterStore({ redisUrl: services.redis.url, databaseUrl, nodeId, prefix })
    const store = node('one')
    const otherWriter = node('two')
    await store.open()
    await otherWriter.open()
    return {
      store,
      otherWriter,
      dispose: async () => {
        await store.close()
        await otherWriter.close()
      },
    }
  })
}
