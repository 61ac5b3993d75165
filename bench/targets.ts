// The servers the bench compares: how each is started, how its frames are framed, when it is ready.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { mintToken } from '../server/cli/token-command.js'
import type { Framing } from './protocol.js'

export const repoRoot = join(import.meta.dirname, '..')

export type TargetName = 'y-websocket' | 'hocuspocus' | 'plait' | 'plait-auth' | 'plait-window' | 'ws-relay'

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
  /** Keeps documents across a restart (false: scenarios that read them back skip this target). */
  readonly storesDocuments: boolean
  launch(options: LaunchOptions): Launch
  /** HTTP path that answers 200 once the server accepts sockets. */
  readonly readyPath: string
  framing(room: string): Framing
  /** The token a client sends in an auth message before anything else, or null for none. */
  authToken(): Promise<string | null>
  /** Built from this repository (dist/): needs `npm run build`, takes --cpu-prof and --node-flags. */
  readonly isPlait: boolean
}

const noToken = async () => null

// The reference servers are bench/'s own packages (bench/package.json), not plait's.
const benchModules = join(repoRoot, 'bench', 'node_modules')
function benchPackageMissing(name: string): string | null {
  return existsSync(join(benchModules, name, 'package.json'))
    ? null
    : `${name} is not installed in bench/node_modules (\`npm run bench\` installs it; or \`npm run bench:install\`)`
}

const plaitMain = join(repoRoot, 'dist', 'plait.mjs')
/** The node flags `npm start` runs plait with (package.json's start script): the bench measures plait as it ships. */
function plaitStartFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts: { start: string }
  }
  return pkg.scripts.start.split(/\s+/).filter((arg) => arg.startsWith('--'))
}

const plait: Target = {
  name: 'plait',
  label: 'plait',
  unavailable: () => (existsSync(plaitMain) ? null : `${plaitMain} is missing (run \`npm run build\`)`),
  launch: ({ port, dataDir, nodeFlags }) => ({
    nodeArgs: [
      ...plaitStartFlags(),
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
  authToken: noToken,
  storesDocuments: true,
  isPlait: true,
}

// Loopback only, made up for the bench: the same secret signs the clients' token and checks it.
const benchSecret = 'plait-bench-secret-not-for-production'
let benchToken: Promise<string> | null = null

/** plait with JWT auth on: every client sends a signed token (write access to every room) first. */
const plaitAuth: Target = {
  ...plait,
  name: 'plait-auth',
  label: 'plait with JWT auth',
  launch: (options) => {
    const launch = plait.launch(options)
    return { ...launch, env: { ...launch.env, AUTH_SECRET: benchSecret } }
  },
  authToken: () => {
    benchToken ??= mintToken({
      secret: benchSecret,
      sub: 'bench',
      docs: { '*': 'write' },
      ttlSeconds: 24 * 3600,
    })
    return benchToken
  },
}

/** plait with the opt-in write window: sparse rooms share a disk write, each update waits up to 2 ms for it. */
const plaitWindow: Target = {
  ...plait,
  name: 'plait-window',
  label: 'plait --write-window 2ms',
  launch: (options) => {
    const launch = plait.launch(options)
    return { ...launch, env: { ...launch.env, WRITE_WINDOW: '2ms' } }
  },
}

const yWebsocket: Target = {
  name: 'y-websocket',
  label: 'y-websocket-server 0.1.1 + y-leveldb',
  unavailable: () => benchPackageMissing('@y/websocket-server'),
  launch: ({ port, dataDir }) => ({
    nodeArgs: [join(benchModules, '@y', 'websocket-server', 'src', 'server.js')],
    env: { HOST: '127.0.0.1', PORT: String(port), YPERSISTENCE: dataDir },
  }),
  readyPath: '/',
  framing: () => ({ prefix: null }),
  authToken: noToken,
  storesDocuments: true,
  isPlait: false,
}

const hocuspocus: Target = {
  name: 'hocuspocus',
  label: 'Hocuspocus 4.7 + SQLite',
  unavailable: () =>
    benchPackageMissing('@hocuspocus/extension-sqlite') ?? benchPackageMissing('@hocuspocus/server'),
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
  // Its bench server accepts any token; the message must still come first.
  authToken: async () => 'bench',
  storesDocuments: true,
  isPlait: false,
}

/** The floor: a bare `ws` relay that stores nothing (targets/ws-relay-server.mjs). */
const wsRelay: Target = {
  name: 'ws-relay',
  label: 'bare ws relay (no storage, no document)',
  unavailable: () => null,
  storesDocuments: false,
  launch: ({ port }) => ({
    nodeArgs: [join(repoRoot, 'bench', 'targets', 'ws-relay-server.mjs'), String(port), '127.0.0.1'],
    env: {},
  }),
  readyPath: '/',
  framing: () => ({ prefix: null }),
  authToken: noToken,
  isPlait: false,
}

export const allTargets: readonly Target[] = [yWebsocket, hocuspocus, plait, plaitAuth, plaitWindow, wsRelay]
/** What runs without --targets: plait against the two reference servers. */
export const defaultTargets: readonly Target[] = [yWebsocket, hocuspocus, plait]

export function targetByName(name: string): Target | undefined {
  return allTargets.find((t) => t.name === name)
}
