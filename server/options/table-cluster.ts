// The cluster part of the option table (table.ts has the rest and the why); see server/cluster/.
import { NODE_ID } from '../../persistence/cluster/cluster-store.js'
import type { OptionSpec } from './spec.js'

export const clusterSpecs = [
  {
    key: 'redisUrl',
    at: 'cluster.redisUrl',
    flag: 'redis',
    env: 'REDIS_URL',
    kind: 'nullable',
    default: null,
    help: 'redis:// URL shared by every node (a Redis Cluster: its nodes, comma-separated): turns cluster mode on',
  },
  {
    key: 'databaseUrl',
    at: 'cluster.databaseUrl',
    flag: 'database',
    env: 'DATABASE_URL',
    kind: 'nullable',
    default: null,
    help: 'postgres:// URL of the database every node shares (required with --redis)',
  },
  {
    key: 'nodeId',
    at: 'cluster.nodeId',
    flag: 'node-id',
    env: 'NODE_ID',
    kind: 'nullable',
    default: null,
    empty: '(host name and pid)',
    check: (v) => (v === null || NODE_ID.test(v) ? null : 'must be 1-64 letters, digits, ".", "_" or "-"'),
    help: "this node's name in the cluster",
  },
  {
    key: 'clusterPrefix',
    at: 'cluster.prefix',
    flag: 'cluster-prefix',
    env: 'CLUSTER_PREFIX',
    kind: 'string',
    default: 'plait',
    // A brace would change the hash tag that keeps a room's keys in one Redis Cluster slot.
    check: (v) => (/^[^\s{}]{1,32}$/.test(v) ? null : 'must be 1-32 characters, without spaces or braces'),
    help: 'prefix of every Redis key and channel (deployments sharing one Redis)',
  },
  {
    key: 'nodeTimeoutMs',
    at: 'cluster.nodeTimeoutMs',
    flag: 'node-timeout',
    env: 'NODE_TIMEOUT',
    kind: 'ms',
    default: 3000,
    positive: true,
    help: "a node silent this long is taken for dead: its clients' presence is removed",
  },
] as const satisfies readonly OptionSpec[]
