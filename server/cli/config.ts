// The one typed configuration object, built once at start-up from flags and environment.
// Nothing else in plait reads process.env.
import { parseArgs } from 'node:util'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface Config {
  port: number
  host: string
  dataDir: string
  logLevel: LogLevel
  /** Optional path prefix before the room name, e.g. "/collab" for ws://host/collab/<room>. */
  pathPrefix: string
  /**
   * Largest document a room may hold, and so the largest frame accepted: a client's first sync step 2
   * carries its whole missing state in one frame. Past it: 4413, which stock clients do not retry.
   */
  maxDocumentBytes: number
  /** A socket whose unsent data passes this is closed with 1013 (it is not reading). */
  maxBufferedBytes: number
  maxRooms: number
  maxClientsPerRoom: number
  /** How long a room stays in memory after its last client left. */
  roomIdleMs: number
  /** Compact a room's update log into a snapshot when it passes either threshold. */
  compactEntries: number
  compactBytes: number
  heartbeatMs: number
  /** fsync every write batch: survives power loss, not just a process crash, at a latency cost. */
  syncWrites: boolean
  maxAwarenessPerSocket: number
  /** A busy room sends at most this many frames a second in all: one broadcast per members/(this/1000) ms. */
  roomFramesPerSecond: number
  // Auth and abuse limits.
  authSecret: string | null
  authJwks: string | null
  authIssuer: string | null
  authAudience: string | null
  /** Bearer token for operator routes of the HTTP API (DELETE /api/docs/:room); null: none. */
  adminToken: string | null
  allowAnonymous: boolean
  allowQueryToken: boolean
  authTimeoutMs: number
  preAuthMaxFrames: number
  preAuthMaxBytes: number
  allowedOrigins: string[]
  maxSocketsPerIp: number
  maxUpgradesPerIpPerMinute: number
  /** Frames per socket per second once its burst is spent; past it the socket is read more slowly. */
  maxMessagesPerSecond: number
  /** Frames a socket may send at once before the rate applies (a paste, an offline replay, an import). */
  messageBurst: number
  /** Bytes per socket per second once its burst (one whole document) is spent. */
  maxBytesPerSecond: number
  /** Largest awareness state (one client's presence, JSON) a socket may send (1007 past it). */
  maxAwarenessStateBytes: number
  /** With auth on, write the verified user id into each awareness state a socket sends (`user.id`). */
  awarenessUserId: boolean
  /** Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For / Forwarded names the client. */
  trustedProxies: string[]
  /** Time to receive a request's headers; past it Node answers 408 and closes (slowloris). */
  headersTimeoutMs: number
  /** Time to receive a whole request. */
  requestTimeoutMs: number
  /** HTTP connections not upgraded to WebSocket, per client address (429) and in all (503). */
  maxHttpConnectionsPerIp: number
  maxHttpConnections: number
  /** Serve the demo editor at / (its built files). */
  demo: boolean
}

type Kind = 'int' | 'bytes' | 'ms' | 'string' | 'bool' | 'list' | 'level' | 'nullable'

interface OptionSpec {
  key: keyof Config
  flag: string
  env: string
  kind: Kind
  help: string
  /** Earlier names of the flag and variable, still read. */
  formerly?: { flag: string; env: string }
}

export const defaults: Config = {
  port: 1234,
  host: '127.0.0.1',
  dataDir: './data',
  logLevel: 'info',
  pathPrefix: '',
  maxDocumentBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxRooms: 10_000,
  maxClientsPerRoom: 1_000,
  roomIdleMs: 10_000,
  compactEntries: 1_000,
  compactBytes: 4 * 1024 * 1024,
  heartbeatMs: 30_000,
  syncWrites: false,
  maxAwarenessPerSocket: 16,
  roomFramesPerSecond: 20_000,
  authSecret: null,
  authJwks: null,
  authIssuer: null,
  authAudience: null,
  adminToken: null,
  allowAnonymous: false,
  allowQueryToken: false,
  authTimeoutMs: 10_000,
  preAuthMaxFrames: 64,
  preAuthMaxBytes: 1024 * 1024,
  allowedOrigins: [],
  maxSocketsPerIp: 1_000,
  maxUpgradesPerIpPerMinute: 3_000,
  maxMessagesPerSecond: 1_000,
  messageBurst: 20_000,
  maxBytesPerSecond: 4 * 1024 * 1024,
  maxAwarenessStateBytes: 64 * 1024,
  awarenessUserId: false,
  trustedProxies: [],
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxHttpConnectionsPerIp: 512,
  maxHttpConnections: 16_384,
  demo: true,
}

const specs: OptionSpec[] = [
  {
    key: 'port',
    flag: 'port',
    env: 'PORT',
    kind: 'int',
    help: 'TCP port for HTTP and WebSocket (0 picks a free one)',
  },
  {
    key: 'host',
    flag: 'host',
    env: 'HOST',
    kind: 'string',
    help: 'address to listen on; 0.0.0.0 exposes the server',
  },
  { key: 'dataDir', flag: 'data', env: 'DATA_DIR', kind: 'string', help: 'LevelDB directory for documents' },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'LOG_LEVEL',
    kind: 'level',
    help: 'fatal|error|warn|info|debug|trace|silent',
  },
  {
    key: 'pathPrefix',
    flag: 'path-prefix',
    env: 'PATH_PREFIX',
    kind: 'string',
    help: 'URL path before the room name',
  },
  {
    key: 'maxDocumentBytes',
    flag: 'max-document-size',
    env: 'MAX_DOCUMENT_SIZE',
    kind: 'bytes',
    help: 'largest document a room holds, and so the largest frame (a first sync carries it whole); 4413 past it',
    formerly: { flag: 'max-frame', env: 'MAX_FRAME' },
  },
  {
    key: 'maxBufferedBytes',
    flag: 'max-buffered',
    env: 'MAX_BUFFERED',
    kind: 'bytes',
    help: 'unsent bytes per socket before it is closed (1013)',
  },
  {
    key: 'maxRooms',
    flag: 'max-rooms',
    env: 'MAX_ROOMS',
    kind: 'int',
    help: 'rooms loaded at once (1013 past it)',
  },
  {
    key: 'maxClientsPerRoom',
    flag: 'max-clients-per-room',
    env: 'MAX_CLIENTS_PER_ROOM',
    kind: 'int',
    help: 'sockets in one room (1013 past it)',
  },
  {
    key: 'roomIdleMs',
    flag: 'room-idle',
    env: 'ROOM_IDLE',
    kind: 'ms',
    help: 'unload a room this long after its last client',
  },
  {
    key: 'compactEntries',
    flag: 'compact-entries',
    env: 'COMPACT_ENTRIES',
    kind: 'int',
    help: 'compact a room log past this many updates (and 1/4 of its snapshot size)',
  },
  {
    key: 'compactBytes',
    flag: 'compact-bytes',
    env: 'COMPACT_BYTES',
    kind: 'bytes',
    help: 'compact a room log past this size',
  },
  {
    key: 'heartbeatMs',
    flag: 'heartbeat',
    env: 'HEARTBEAT',
    kind: 'ms',
    help: 'ping interval; no pong by the next one terminates',
  },
  {
    key: 'syncWrites',
    flag: 'sync-writes',
    env: 'SYNC_WRITES',
    kind: 'bool',
    help: 'fsync each write batch (survive power loss; slower)',
  },
  {
    key: 'maxAwarenessPerSocket',
    flag: 'max-awareness-per-socket',
    env: 'MAX_AWARENESS_PER_SOCKET',
    kind: 'int',
    help: 'awareness client ids one socket may control',
  },
  {
    key: 'authSecret',
    flag: 'auth-secret',
    env: 'AUTH_SECRET',
    kind: 'nullable',
    help: 'HS256 secret for JWTs; enables auth',
  },
  {
    key: 'authJwks',
    flag: 'auth-jwks',
    env: 'AUTH_JWKS',
    kind: 'nullable',
    help: 'JWKS file path or URL for ES256/EdDSA/RS256 JWTs; enables auth',
  },
  { key: 'authIssuer', flag: 'auth-issuer', env: 'AUTH_ISSUER', kind: 'nullable', help: 'required JWT iss' },
  {
    key: 'authAudience',
    flag: 'auth-audience',
    env: 'AUTH_AUDIENCE',
    kind: 'nullable',
    help: 'required JWT aud',
  },
  {
    key: 'adminToken',
    flag: 'admin-token',
    env: 'ADMIN_TOKEN',
    kind: 'nullable',
    help: 'bearer token for operator routes of the HTTP API (DELETE /api/docs/:room)',
  },
  {
    key: 'allowAnonymous',
    flag: 'allow-anonymous',
    env: 'ALLOW_ANONYMOUS',
    kind: 'bool',
    help: 'allow open mode (no auth) on a non-loopback host',
  },
  {
    key: 'allowQueryToken',
    flag: 'allow-query-token',
    env: 'ALLOW_QUERY_TOKEN',
    kind: 'bool',
    help: 'accept ?token= in the URL (it ends up in proxy logs)',
  },
  {
    key: 'authTimeoutMs',
    flag: 'auth-timeout',
    env: 'AUTH_TIMEOUT',
    kind: 'ms',
    help: 'time to send a token (4408)',
  },
  {
    key: 'preAuthMaxFrames',
    flag: 'pre-auth-max-frames',
    env: 'PRE_AUTH_MAX_FRAMES',
    kind: 'int',
    help: 'frames queued before the auth verdict (4429)',
  },
  {
    key: 'preAuthMaxBytes',
    flag: 'pre-auth-max-bytes',
    env: 'PRE_AUTH_MAX_BYTES',
    kind: 'bytes',
    help: 'bytes queued before the auth verdict (4429)',
  },
  {
    key: 'allowedOrigins',
    flag: 'allowed-origins',
    env: 'ALLOWED_ORIGINS',
    kind: 'list',
    help: 'comma-separated Origins allowed to connect (empty: any)',
  },
  {
    key: 'maxSocketsPerIp',
    flag: 'max-sockets-per-ip',
    env: 'MAX_SOCKETS_PER_IP',
    kind: 'int',
    help: 'concurrent sockets per client IP (HTTP 429)',
  },
  {
    key: 'maxUpgradesPerIpPerMinute',
    flag: 'max-upgrades-per-ip',
    env: 'MAX_UPGRADES_PER_IP',
    kind: 'int',
    help: 'WebSocket upgrades per client IP per minute (HTTP 429)',
  },
  {
    key: 'maxMessagesPerSecond',
    flag: 'max-messages-per-second',
    env: 'MAX_MESSAGES_PER_SECOND',
    kind: 'int',
    help: 'frames per socket per second after its burst; past it the socket is read slower, never closed',
  },
  {
    key: 'messageBurst',
    flag: 'message-burst',
    env: 'MESSAGE_BURST',
    kind: 'int',
    help: 'frames a socket may send at once before --max-messages-per-second applies',
  },
  {
    key: 'maxBytesPerSecond',
    flag: 'max-bytes-per-second',
    env: 'MAX_BYTES_PER_SECOND',
    kind: 'bytes',
    help: 'bytes per socket per second after a burst of one whole document; past it the socket is read slower',
  },
  {
    key: 'maxAwarenessStateBytes',
    flag: 'max-awareness-state',
    env: 'MAX_AWARENESS_STATE',
    kind: 'bytes',
    help: "largest awareness state (one client's presence JSON); 1007 past it",
  },
  {
    key: 'awarenessUserId',
    flag: 'awareness-user-id',
    env: 'AWARENESS_USER_ID',
    kind: 'bool',
    help: "with auth on, write the token's user id into each awareness state as user.id",
  },
  {
    key: 'trustedProxies',
    flag: 'trusted-proxies',
    env: 'TRUSTED_PROXIES',
    kind: 'list',
    help: 'comma-separated proxy addresses/CIDRs whose X-Forwarded-For names the client (empty: none)',
  },
  {
    key: 'headersTimeoutMs',
    flag: 'headers-timeout',
    env: 'HEADERS_TIMEOUT',
    kind: 'ms',
    help: 'time to send request headers (408, then closed)',
  },
  {
    key: 'requestTimeoutMs',
    flag: 'request-timeout',
    env: 'REQUEST_TIMEOUT',
    kind: 'ms',
    help: 'time to send a whole request (408, then closed)',
  },
  {
    key: 'maxHttpConnectionsPerIp',
    flag: 'max-http-connections-per-ip',
    env: 'MAX_HTTP_CONNECTIONS_PER_IP',
    kind: 'int',
    help: 'open HTTP connections (not WebSockets) per client address (429)',
  },
  {
    key: 'maxHttpConnections',
    flag: 'max-http-connections',
    env: 'MAX_HTTP_CONNECTIONS',
    kind: 'int',
    help: 'open HTTP connections (not WebSockets) in all (503)',
  },
  {
    key: 'roomFramesPerSecond',
    flag: 'room-frames-per-second',
    env: 'ROOM_FRAMES_PER_SECOND',
    kind: 'int',
    help: 'frames a busy room sends per second in all: lower saves CPU, adds up to members/this s of latency',
  },
  {
    key: 'demo',
    flag: 'demo',
    env: 'DEMO',
    kind: 'bool',
    help: 'serve the demo editor at / (--no-demo turns it off)',
  },
]

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const units: Record<string, number> = {
  b: 1,
  kb: 1e3,
  kib: 1024,
  mb: 1e6,
  mib: 1024 ** 2,
  gb: 1e9,
  gib: 1024 ** 3,
}
const durations: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

function parseNumber(raw: string, table: Record<string, number> | null, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw)
  const unit = match?.[2]?.toLowerCase() ?? ''
  const factor = unit === '' ? 1 : table?.[unit]
  if (!match || factor === undefined) {
    const hint = table ? ` (a number, optionally with ${Object.keys(table).join('/')})` : ' (a whole number)'
    throw new ConfigError(`${what}: "${raw}" is not valid${hint}`)
  }
  const value = Number(match[1]) * factor
  if (!Number.isSafeInteger(Math.round(value))) throw new ConfigError(`${what}: "${raw}" is too large`)
  return Math.round(value)
}

function parseValue(spec: OptionSpec, raw: string, source: string): Config[keyof Config] {
  const what = `${source} (${spec.help})`
  switch (spec.kind) {
    case 'int':
      return parseNumber(raw, null, what)
    case 'bytes':
      return parseNumber(raw, units, what)
    case 'ms':
      return parseNumber(raw, durations, what)
    case 'bool': {
      const v = raw.toLowerCase()
      if (['1', 'true', 'yes', 'on', ''].includes(v)) return true
      if (['0', 'false', 'no', 'off'].includes(v)) return false
      throw new ConfigError(`${what}: "${raw}" is not true or false`)
    }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    case 'level': {
      const levels: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
      if (!levels.includes(raw as LogLevel))
        throw new ConfigError(`${what}: "${raw}" is not one of ${levels.join(', ')}`)
      return raw as LogLevel
    }
    case 'nullable':
      return raw === '' ? null : raw
    case 'string':
      return raw
  }
}

/** Checks relations between options; throws ConfigError with a sentence a person can act on. */
export function validateConfig(config: Config): Config {
  if (config.port < 0 || config.port > 65535)
    throw new ConfigError(`--port ${config.port} is not a TCP port (0-65535)`)
  if (config.host.trim() === '') throw new ConfigError('--host must not be empty')
  if (config.dataDir.trim() === '') throw new ConfigError('--data must not be empty')
  if (config.pathPrefix !== '' && (!config.pathPrefix.startsWith('/') || config.pathPrefix.endsWith('/'))) {
    throw new ConfigError(
      `--path-prefix "${config.pathPrefix}" must start with / and not end with / (e.g. /collab)`,
    )
  }
  const positive: (keyof Config)[] = [
    'maxDocumentBytes',
    'maxBufferedBytes',
    'maxRooms',
    'maxClientsPerRoom',
    'compactEntries',
    'compactBytes',
    'heartbeatMs',
    'maxAwarenessPerSocket',
    'authTimeoutMs',
    'preAuthMaxFrames',
    'preAuthMaxBytes',
    'maxSocketsPerIp',
    'maxUpgradesPerIpPerMinute',
    'maxMessagesPerSecond',
    'messageBurst',
    'maxBytesPerSecond',
    'maxAwarenessStateBytes',
    'roomFramesPerSecond',
    'headersTimeoutMs',
    'requestTimeoutMs',
    'maxHttpConnectionsPerIp',
    'maxHttpConnections',
  ]
  for (const key of positive) {
    const value = config[key] as number
    if (!(value > 0))
      throw new ConfigError(`--${specs.find((s) => s.key === key)?.flag} must be greater than 0`)
  }
  if (config.maxDocumentBytes < 1024) throw new ConfigError('--max-document-size must be at least 1KiB')
  // ws keeps its frame limit in a 32-bit integer.
  if (config.maxDocumentBytes > 2 ** 31 - 1) throw new ConfigError('--max-document-size must be below 2GiB')
  if (config.headersTimeoutMs > config.requestTimeoutMs)
    throw new ConfigError('--headers-timeout must not be longer than --request-timeout')
  return config
}

export function helpText(): string {
  const lines = [
    'plait — a Yjs sync server (y-websocket compatible) that keeps every update on disk.',
    '',
    'Usage: plait [options]        start the server',
    '       plait token [options]  mint an access token (plait token --help)',
    '',
    'Options (flag, environment variable, default):',
  ]
  for (const spec of specs) {
    const value = defaults[spec.key]
    const shown = Array.isArray(value)
      ? value.join(',') || (spec.key === 'allowedOrigins' ? '(any)' : '(none)')
      : value === null
        ? '(none)'
        : String(value)
    const flag = spec.kind === 'bool' ? `--${spec.flag}` : `--${spec.flag} <v>`
    const formerly = spec.formerly === undefined ? '' : ` (formerly --${spec.formerly.flag})`
    lines.push(`  ${flag.padEnd(34)} ${spec.env.padEnd(26)} ${shown.padEnd(10)} ${spec.help}${formerly}`)
  }
  lines.push('  --help                             show this text')
  lines.push('', 'Sizes take b/kib/mib/gib (e.g. 16mib); durations take ms/s/m/h (e.g. 30s).')
  return lines.join('\n')
}

/** Builds the configuration from command-line arguments and the environment (flags win). */
export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config | 'help' {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } }
  for (const spec of specs) {
    for (const flag of [spec.flag, spec.formerly?.flag]) {
      if (flag === undefined) continue
      options[flag] = { type: spec.kind === 'bool' ? 'boolean' : 'string' }
      if (spec.kind === 'bool') options[`no-${flag}`] = { type: 'boolean' }
    }
  }
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as typeof values
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}. Run with --help to see the options.`)
  }
  if (values.help) return 'help'
  const config: Config = { ...defaults, allowedOrigins: [...defaults.allowedOrigins] }
  const target = config as unknown as Record<string, unknown>
  for (const spec of specs) {
    const former = spec.formerly
    const envName = env[spec.env] === undefined && former !== undefined ? former.env : spec.env
    const fromEnv = env[envName]
    if (fromEnv !== undefined) target[spec.key] = parseValue(spec, fromEnv, envName)
    const flagName = values[spec.flag] === undefined && former !== undefined ? former.flag : spec.flag
    const fromFlag = values[flagName]
    if (spec.kind === 'bool') {
      if (fromFlag === true) target[spec.key] = true
      if (values[`no-${spec.flag}`] === true) target[spec.key] = false
    } else if (typeof fromFlag === 'string') {
      target[spec.key] = parseValue(spec, fromFlag, `--${flagName}`)
    }
  }
  return validateConfig(config)
}
