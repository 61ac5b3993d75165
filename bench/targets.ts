// The servers the bench compares: how each is started, how its frames are framed, when it is ready.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Framing } from './protocol.js'

export const repoRoot = join(import.meta.dirname, '..')

export type TargetName = 'y-websocket' | 'hocuspocus' | 'plait'

export interface LaunchOptions {
  port: number
  dataDir: string
  /** Extra node flags (plait only: a CPU profile, --node-flags). */
  nodeFlags: readonly string[]
}

export interface Launch {
  /** Arguments after `node`. */
  nodeArgs: string[]
  env: Record<string, string>
}

export interface Target {
  readonly name: TargetName
  readonly label: string
  /** Why this target cannot run now, or null when it can. */
  unavailable(): string | null
  launch(options: LaunchOptions): Launch
  /** HTTP path that answers 200 once the server accepts sockets. */
  readonly readyPath: string
  framing(room: string): Framing
  /** Whether a client must send an auth token message before anything else. */
  readonly needsAuth: boolean
}

const plaitMain = join(repoRoot, 'dist', 'server', 'main.js')

const plait: Target = {
  name: 'plait',
  label: 'plait',
  unavailable: () =>
    existsSync(plaitMain)
      ? null
      : `${plaitMain} is missing (run \`npm run build\` once server/main.ts exists)`,
  launch: ({ port, dataDir, nodeFlags }) => ({
    nodeArgs: [
      ...nodeFlags,
      plaitMain,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--data',
      dataDir,
      // Every bench client comes from 127.0.0.1 and the cold-load writer types far faster than a person:
      // lift the abuse limits the reference servers do not have.
      '--max-sockets-per-ip',
      '1000000',
      '--max-upgrades-per-ip',
      '1000000',
      '--max-messages-per-second',
      '1000000',
      '--no-demo',
    ],
    env: {},
  }),
  readyPath: '/healthz',
  framing: () => ({ prefix: null }),
  needsAuth: false,
}

const yWebsocket: Target = {
  name: 'y-websocket',
  label: 'y-websocket-server 0.1.1 + y-leveldb',
  unavailable: () => null,
  launch: ({ port, dataDir }) => ({
    nodeArgs: [join(repoRoot, 'node_modules', '@y', 'websocket-server', 'src', 'server.js')],
    env: { HOST: '127.0.0.1', PORT: String(port), YPERSISTENCE: dataDir },
  }),
  readyPath: '/',
  framing: () => ({ prefix: null }),
  needsAuth: false,
}

const hocuspocus: Target = {
  name: 'hocuspocus',
  label: 'Hocuspocus 4.7 + SQLite',
  unavailable: () => null,
  launch: ({ port, dataDir }) => ({
    nodeArgs: [
      join(repoRoot, 'bench', 'targets', 'hocuspocus-server.mjs'),
      String(port),
      '127.0.0.1',
      join(dataDir, 'hocuspocus.sqlite'),
    ],
    env: {},
  }),
  readyPath: '/',
  framing: (room) => ({ prefix: room }),
  needsAuth: true,
}

export const allTargets: readonly Target[] = [yWebsocket, hocuspocus, plait]

export function targetByName(name: string): Target | undefined {
  return allTargets.find((t) => t.name === name)
}
