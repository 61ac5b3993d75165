import { after, before, test } from 'node:test'
import { describeStoreContract } from '../persistence/contract.js'
import {
  type ClusterServices,
  clusterContractSubject,
  clusterSkip,
  startServices,
} from './helpers/cluster.js'

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

  describeStoreContract('ClusterStore, two nodes on one Redis and one PostgreSQL', () =>
    clusterContractSubject(services.redis.url, services.postgres),
  )
}
