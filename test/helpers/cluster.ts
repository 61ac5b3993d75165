// A cluster for tests: the test's own redis-server and PostgreSQL database, and plait nodes on them,
// in this process (createServer) or as child processes (the shipped bundle, for kill -9).
import { randomUUID } from 'node:crypto'
import { ClusterStore } from '../../persistence/cluster/cluster-store.js'
import type { ContractSubject } from '../../persistence/contract.js'
import { PlaitProcess } from './plait-process.js'
import { type PostgresServer, postgresSkipReason, startPostgres } from './postgres-server.js'
import { type RedisServer, redisSkipReason, startRedis } from './redis-server.js'
import { unmet } from './requirements.js'
import { freePort, startServer, type TestServer } from './server.js'

/** Why the cluster tests cannot run here (they skip with it; .ci/run installs both), or false. */
export const clusterSkip: string | false = unmet(redisSkipReason() ?? postgresSkipReason())

export interface ClusterServices {
  redis: RedisServer
  postgres: PostgresServer
  databaseUrl: string
  dispose(): Promise<void>
}

export async function startServices(): Promise<ClusterServices> {
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()])
  const databaseUrl = await postgres.createDatabase()
  return {
    redis,
    postgres,
    databaseUrl,
    dispose: async () => {
      await Promise.all([redis.dispose(), postgres.dispose()])
    },
  }
}

/** A node in this process; `nodeId` names it in logs and metrics. */
export function startNode(
  services: ClusterServices,
  nodeId: string,
  tuning: Record<string, number> = {},
): Promise<TestServer> {
  return startServer({
    cluster: { redisUrl: services.redis.url, databaseUrl: services.databaseUrl, nodeId, nodeTimeoutMs: 1500 },
    tuning,
  })
}

/** A node as its own process (the bundle `npm start` runs), started. */
export async function startNodeProcess(services: ClusterServices, nodeId: string): Promise<PlaitProcess> {
  const node = new PlaitProcess(await freePort(), [
    '--redis',
    services.redis.url,
    '--database',
    services.databaseUrl,
    '--node-id',
    nodeId,
    '--node-timeout',
    '1500ms',
    '--no-demo',
  ])
  await node.start()
  return node
}

/** The storage contract's subject: two stores (two nodes) on a fresh database and a key prefix of their own. */
export async function clusterContractSubject(
  redisUrl: string,
  postgres: PostgresServer,
): Promise<ContractSubject> {
  const databaseUrl = await postgres.createDatabase()
  const prefix = `c${randomUUID().slice(0, 8)}`
  const node = (nodeId: string) => new ClusterStore({ redisUrl, databaseUrl, nodeId, prefix })
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
}
