// A Redis Cluster of the test's own: three redis-server masters (no replicas) on loopback, their slots
// assigned with redis-cli --cluster create, ready once every node reports cluster_state:ok.
import { execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { type RedisServer, startRedis } from './redis-server.js'

export function redisClusterSkipReason(): string | null {
  try {
    execFileSync('redis-cli', ['--version'], { stdio: 'pipe', timeout: 5_000 })
    return null
  } catch {
    return 'redis-cli is not on PATH (Debian: apt-get install redis-tools)'
  }
}

/** A port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000)
    if ((await free(port)) && (await free(port + 10_000))) return port
  }
  throw new Error('no free port pair for a Redis Cluster node')
}

export interface RedisCluster {
  nodes: RedisServer[]
  /** Every node's URL, comma-separated: plait's --redis value for a cluster. */
  url: string
  dispose(): Promise<void>
}

export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = []
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(
        await startRedis({
          port: await clusterPort(),
          extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
        }),
      )
    }
    execFileSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { stdio: 'pipe', timeout: 30_000 },
    )
    const deadline = Date.now() + 20_000
    for (const node of nodes) {
      const client = new Redis(node.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
      await client.connect()
      try {
        while (!/cluster_state:ok/.test(await client.cluster('INFO'))) {
          if (Date.now() > deadline) throw new Error(`Redis Cluster node ${node.port} never became ok`)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      } finally {
        client.disconnect()
      }
    }
  } catch (error) {
    for (const node of nodes) await node.dispose()
    throw error
  }
  return {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    dispose: async () => {
      for (const node of nodes) await node.dispose()
    },
  }
}
