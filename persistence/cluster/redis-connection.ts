// How the cluster reaches Redis: one server (`redis://host:port`) or a Redis Cluster (several URLs,
// comma-separated: its seed nodes). Both answer the same commands; every room's keys share one hash
// slot (redis-keys.ts), so nothing here spans two slots.
import { type ChainableCommander, Cluster, Redis, type RedisOptions } from 'ioredis'
import { ACQUIRE_LEASE_SCRIPT, APPEND_SCRIPT, RELEASE_LEASE_SCRIPT } from './log-scripts.js'

export type RedisClient = Redis | Cluster

/** The URLs of a --redis value: several mean a Redis Cluster. */
export function redisUrls(value: string): string[] {
  return value
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '')
}

const reconnectDelay = (attempt: number) => Math.min(attempt * 100, 1000)

export interface ConnectionOptions {
  timeoutMs: number
  /**
   * Commands fail at once while disconnected (a write must fail, not hang); without it they wait
   * for the connection (subscriptions, which come back by themselves).
   */
  failFast: boolean
}

/** A connection, not yet connected (call connect()); errors go to the commands, not to 'error'. */
export function createRedis(value: string, { timeoutMs, failFast }: ConnectionOptions): RedisClient {
  const urls = redisUrls(value)
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: !failFast,
    maxRetriesPerRequest: failFast ? 1 : null,
    connectTimeout: timeoutMs,
    commandTimeout: failFast ? timeoutMs : undefined,
    retryStrategy: reconnectDelay,
  }
  let client: RedisClient
  if (urls.length > 1) {
    const nodes = urls.map((url) => {
      const { hostname, port } = new URL(url)
      return { host: hostname, port: Number(port || 6379) }
    })
    const { username, password } = new URL(urls[0])
    client = new Cluster(nodes, {
      lazyConnect: true,
      enableOfflineQueue: !failFast,
      // One round trip per shard for what a turn sends: an explicit pipeline may not span slots. It
      // waits one more turn (setImmediate), so a single Redis gets an explicit pipeline (redis-log.ts).
      enableAutoPipelining: true,
      clusterRetryStrategy: reconnectDelay,
      redisOptions: { ...options, username: username || undefined, password: password || undefined },
    })
  } else client = new Redis(urls[0] ?? value, options)
  // Without a listener an 'error' event would crash the process.
  client.on('error', () => {})
  client.defineCommand('plaitAppend', { numberOfKeys: 3, lua: APPEND_SCRIPT })
  client.defineCommand('plaitAcquireLease', { numberOfKeys: 1, lua: ACQUIRE_LEASE_SCRIPT })
  client.defineCommand('plaitReleaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE_SCRIPT })
  return client
}

type ScriptRunner = (...args: (string | number | Buffer)[]) => Promise<unknown>

/** Runs one of the scripts createRedis defined (ioredis adds them as methods it does not type). */
export function runScript(
  client: RedisClient | ChainableCommander,
  name: 'plaitAppend' | 'plaitAcquireLease' | 'plaitReleaseLease',
  ...args: (string | number | Buffer)[]
): Promise<unknown> {
  const run = (client as unknown as Record<string, ScriptRunner>)[name]
  return run.apply(client, args)
}
