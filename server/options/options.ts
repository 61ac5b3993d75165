// What an embedder passes to createServer: grouped by concern, every field optional. The command line
// reaches the same options through the option table (table.ts), which holds each field's default, flag
// and environment variable; README's options table (generated from it) lists them side by side.

import type { Server as HttpServer } from 'node:http'
import type { DocumentStore } from '../../persistence/store.js'
import type { Authenticate } from '../auth/authenticators.js'
import type { Extension } from '../hooks/extension.js'
import type { FeedLimits } from '../http/docs/deps.js'
import type { Logger } from '../logger.js'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/**
 * Options for createServer. Each field's default, flag and environment variable: README, "Options"
 * (its `createServer option` column). Unknown fields are refused (ConfigError), not ignored.
 */
export interface ServerOptions {
  /** TCP port for HTTP and WebSocket; 0 picks a free one (see `server.address()`). */
  port?: number
  /** Address to listen on; `0.0.0.0` exposes the server (then auth or `auth.allowAnonymous`). */
  host?: string
  /** Path before the room name, e.g. `/collab` for `ws://host/collab/<room>`. */
  pathPrefix?: string
  /** Browser Origins allowed to open a socket (others get 403). Empty: any. */
  allowedOrigins?: readonly string[]
  /** Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For`/`Forwarded` names the client. */
  trustedProxies?: readonly string[]
  /** LevelDB directory, used when `store` is not given. */
  dataDir?: string
  /** Another storage backend; by default LevelDB in `dataDir`. */
  store?: DocumentStore
  /** fsync every write batch of the default store: survives power loss, at a latency cost. */
  syncWrites?: boolean
  /** Your pino logger; without it plait logs JSON lines to stdout at `logLevel`. */
  logger?: Logger
  /** Level of the logger plait creates when `logger` is not given. */
  logLevel?: LogLevel
  /** Serve the demo editor and whiteboard at `/`. Off here; the `plait` command turns it on. */
  demo?: boolean
  /**
   * Your hooks (onLoad, onChange, onConnect, …; see Extension), run in this order. The first extension
   * with an `authenticate` provides the access check when `auth.authenticate` is not set.
   */
  extensions?: readonly Extension[]
  /**
   * Attach to your own Node HTTP server instead of listening on `port`: plait then takes the WebSocket
   * upgrades under `pathPrefix` (required) and leaves every other request and upgrade to you; answer the
   * requests you want plait to (its probes and /api routes) with `server.handleRequest(req, res)`.
   */
  httpServer?: HttpServer
  /** Bounds of the change feeds (GET /api/docs/:room/events): how many, how much history, heartbeats. */
  feeds?: Partial<FeedLimits>
  auth?: AuthOptions
  limits?: LimitOptions
  tuning?: TuningOptions
  webhooks?: WebhookOptions
  cluster?: ClusterOptions
}

/**
 * Several nodes sharing rooms (README: Deployment). With `redisUrl` set, documents live in Redis
 * (recent updates) and PostgreSQL (`databaseUrl`: snapshots, versions) instead of LevelDB.
 */
export interface ClusterOptions {
  /** redis://host:port of the Redis every node shares (a Redis Cluster: its seed nodes, comma-separated). */
  redisUrl?: string | null
  /** postgres://… of the PostgreSQL database every node shares (required with `redisUrl`). */
  databaseUrl?: string | null
  /** This node's name in the cluster (letters, digits, `.`, `_`, `-`); by default host name and pid. */
  nodeId?: string | null
  /** Prefix of every Redis key and channel, so deployments can share one Redis. */
  prefix?: string
  /** A node not heard from for this long is taken for dead: its clients' presence is removed. */
  nodeTimeoutMs?: number
}

/** A signed POST per room after changes, retried until delivered or expired (README: Webhooks). */
export interface WebhookOptions {
  /** Where each event goes; webhooks are off without it. */
  url?: string | null
  /** HMAC-SHA256 key signing each event (at least 16 characters); required with `url`. */
  secret?: string | null
  /** A Y.Text whose current content each event carries as `text`. */
  text?: string | null
  /** Send a room's event this long after its last change… */
  debounceMs?: number
  /** …but at most this long after the first change of the batch. */
  maxWaitMs?: number
  /** Time the receiver has to answer one delivery (then it is retried). */
  timeoutMs?: number
  /** The first retry waits up to this, doubling per attempt (full jitter)… */
  retryBaseMs?: number
  /** …and never longer than this. */
  retryMaxMs?: number
  /** An event not delivered by this age is given up. */
  expiryMs?: number
  /** Events kept for delivery at most; past it the oldest is dropped. */
  maxQueue?: number
}

/** Who may open which room. With none of `secret`, `jwks` or `authenticate`, the server is open. */
export interface AuthOptions {
  /** HS256 secret for JWTs; turns auth on. */
  secret?: string | null
  /** JWKS file path or URL for ES256/EdDSA/RS256 JWTs; turns auth on. Not with `secret`. */
  jwks?: string | null
  /** Required JWT `iss`. */
  issuer?: string | null
  /** Required JWT `aud`. */
  audience?: string | null
  /** Bearer token for the HTTP API's operator routes (DELETE /api/docs/:room); null: none. */
  adminToken?: string | null
  /**
   * Your own access check instead of JWTs: `(token, room, request) => ({ userId, access: 'read' | 'write' })`,
   * or null to refuse the room (4403); sync or async. Throw AuthError(4401, …) for a bad token.
   */
  authenticate?: Authenticate
  /** Allow open mode (no auth) on a non-loopback `host`. Without it such a server refuses to start. */
  allowAnonymous?: boolean
  /** Accept `?token=` in the URL, for clients that cannot send a first frame (it ends up in proxy logs). */
  allowQueryToken?: boolean
  /** Time a socket has to send its token (4408 past it). */
  timeoutMs?: number
  /** With auth on, write the verified user id into each awareness state a socket sends (`user.id`). */
  awarenessUserId?: boolean
}

/** Bounds on what one client, address or process may use. No default stops a well-behaved client. */
export interface LimitOptions {
  /**
   * Largest document a room may hold, and so the largest frame accepted: a client's first sync step 2
   * carries its whole missing state in one frame. Past it: 4413, which stock clients do not retry. 64 MiB.
   */
  maxDocumentBytes?: number
  /** A socket whose unsent data passes this is closed with 1013 (it is not reading). */
  maxBufferedBytes?: number
  /** Rooms in memory at once (1013 past it). */
  maxRooms?: number
  /** Sockets in one room (1013 past it). */
  maxClientsPerRoom?: number
  /** Documents one Hocuspocus socket (many documents over one socket) may have open at once. */
  maxDocumentsPerSocket?: number
  /** Awareness client ids one socket may control. */
  maxAwarenessPerSocket?: number
  /** Largest awareness state (one client's presence, JSON) a socket may send (1007 past it). */
  maxAwarenessStateBytes?: number
  /** Frames per socket per second once its burst is spent; past it the socket is read more slowly. */
  maxMessagesPerSecond?: number
  /** Frames a socket may send at once before the rate applies (a paste, an offline replay, an import). */
  messageBurst?: number
  /** Bytes per socket per second once its burst (one whole document) is spent. */
  maxBytesPerSecond?: number
  /** Frames queued before the auth verdict; a full queue pauses the socket. */
  preAuthMaxFrames?: number
  /** Bytes queued before the auth verdict; paused past it, 4429 past twice it. */
  preAuthMaxBytes?: number
  /** Concurrent sockets per client address (HTTP 429). */
  maxSocketsPerIp?: number
  /** WebSocket upgrades per client address per minute (HTTP 429). */
  maxUpgradesPerIpPerMinute?: number
  /** HTTP connections not (yet) upgraded to WebSocket, per client address (429). */
  maxHttpConnectionsPerIp?: number
  /** HTTP connections not (yet) upgraded to WebSocket, in all (503). */
  maxHttpConnections?: number
  /** Time to receive a request's headers; past it Node answers 408 and closes (slowloris). */
  headersTimeoutMs?: number
  /** Time to receive a whole request (408 past it); not shorter than `headersTimeoutMs`. */
  requestTimeoutMs?: number
}

/** Trade-offs between memory, CPU, disk and latency; the defaults suit most servers. */
export interface TuningOptions {
  /** How long a room stays in memory after its last client left. */
  roomIdleMs?: number
  /** Compact a room's update log into a snapshot past this many updates (and 1/4 of the snapshot). */
  compactEntries?: number
  /** … or past this many bytes. */
  compactBytes?: number
  /** Ping interval; a socket with no pong by the next ping is dropped. */
  heartbeatMs?: number
  /** Frames a busy room sends per second in all: one broadcast per members × 1000 / this ms. */
  roomFramesPerSecond?: number
  /** Awareness frames a busy room sends per second in all: one awareness broadcast per members × 1000 / this ms. */
  awarenessFramesPerSecond?: number
  /**
   * Wait this long after an update before writing it (0: write in the turn it arrived). Every update of the
   * window goes to disk in one batch, and none is broadcast before that batch is durable.
   */
  writeWindowMs?: number
}

/** The groups of ServerOptions, and the fields that are not plain values (no flag, no default). */
export const optionGroups = ['auth', 'limits', 'tuning', 'webhooks', 'cluster'] as const
export type OptionGroup = (typeof optionGroups)[number]
export const objectOptions = {
  top: ['store', 'logger', 'extensions', 'httpServer', 'feeds'],
  auth: ['authenticate'],
} as const

type Plain<T> = Exclude<T, undefined>
type TopField = Exclude<keyof ServerOptions, OptionGroup | (typeof objectOptions.top)[number]>
type GroupField<G extends OptionGroup> = Exclude<
  keyof Plain<ServerOptions[G]>,
  G extends 'auth' ? (typeof objectOptions.auth)[number] : never
> &
  string

/** Every plain option by where it is: `port`, `auth.secret`, `limits.maxRooms`. */
export type OptionPath = TopField | { [G in OptionGroup]: `${G}.${GroupField<G>}` }[OptionGroup]

/** The type of the option at a path. */
export type OptionValue<P extends OptionPath> = P extends `${infer G extends OptionGroup}.${infer F}`
  ? F extends keyof Plain<ServerOptions[G]>
    ? Plain<Plain<ServerOptions[G]>[F]>
    : never
  : P extends keyof ServerOptions
    ? Plain<ServerOptions[P]>
    : never
