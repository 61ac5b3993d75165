// Who may read and who may write each room: JWTs (HS256 secret or a JWKS of public keys) or an
// embedding app's own `authenticate` hook, turned into a verdict for the socket's first message.
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose'
import type { AuthVerdict } from './auth-gate.js'
import { type Config, ConfigError } from './config.js'
import type { Verifier } from './gateway.js'

export type Access = 'read' | 'write'

export interface AuthIdentity {
  /** Logged with the socket; never the token. */
  userId: string
  access: Access
}

/**
 * An app's own check, for embedding: return the identity and its access to `room`, or null to refuse
 * (4403). Throw AuthError(4401, …) to say the token itself is bad.
 */
export type Authenticate = (
  token: string,
  room: string,
  request: IncomingMessage,
) => AuthIdentity | null | Promise<AuthIdentity | null>

export class AuthError extends Error {
  constructor(
    readonly code: 4401 | 4403,
    message: string,
  ) {
    super(message)
    this.name = 'AuthError'
  }
}

/** Allowed clock difference between token issuer and server, in seconds. */
const CLOCK_SKEW_S = 30

/**
 * The access a `docs` claim grants to a room: an exact name wins over any prefix pattern ("team/*"),
 * and the longest matching prefix wins over shorter ones.
 */
export function accessFor(docs: Record<string, Access>, room: string): Access | null {
  const exact = docs[room]
  if (exact !== undefined) return exact
  let best: Access | null = null
  let bestLength = -1
  for (const [pattern, access] of Object.entries(docs)) {
    if (!pattern.endsWith('*')) continue
    const prefix = pattern.slice(0, -1)
    if (room.startsWith(prefix) && prefix.length > bestLength) {
      best = access
      bestLength = prefix.length
    }
  }
  return best
}

function readDocsClaim(value: unknown): Record<string, Access> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AuthError(4401, 'the token has no docs claim (an object of room pattern to "read" or "write")')
  }
  const docs: Record<string, Access> = {}
  for (const [pattern, access] of Object.entries(value)) {
    if (access !== 'read' && access !== 'write') {
      throw new AuthError(
        4401,
        `the token's docs claim gives "${String(access)}" for ${pattern}; use read or write`,
      )
    }
    docs[pattern] = access
  }
  return docs
}

function describeJwtError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired'
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet'
    if (error.claim === 'exp') return 'the token has no expiry (exp)'
    return `the token's ${error.claim} claim is not accepted`
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid'
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token was signed with an unknown key'
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token uses an algorithm that is not accepted'
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'the token is malformed'
  return 'the token is invalid'
}

function loadJwks(source: string): JWTVerifyGetKey {
  if (/^https?:\/\//.test(source)) return createRemoteJWKSet(new URL(source))
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(source, 'utf8'))
  } catch (error) {
    throw new ConfigError(`--auth-jwks: cannot read a JWKS from ${source}: ${(error as Error).message}`)
  }
  return createLocalJWKSet(parsed as Parameters<typeof createLocalJWKSet>[0])
}

/** The JWT check configured by --auth-secret / --auth-jwks, or null when neither is set. */
export function jwtAuthenticate(config: Config): Authenticate | null {
  if (config.authSecret === null && config.authJwks === null) return null
  if (config.authSecret !== null && config.authJwks !== null) {
    throw new ConfigError('set either --auth-secret (HS256) or --auth-jwks (public keys), not both')
  }
  const secret = config.authSecret === null ? null : new TextEncoder().encode(config.authSecret)
  const jwks = config.authJwks === null ? null : loadJwks(config.authJwks)
  const options = {
    algorithms: secret ? ['HS256'] : ['ES256', 'EdDSA', 'RS256'],
    issuer: config.authIssuer ?? undefined,
    audience: config.authAudience ?? undefined,
    clockTolerance: CLOCK_SKEW_S,
    requiredClaims: ['exp'],
  }
  return async (token, room) => {
    let payload: Record<string, unknown>
    try {
      payload = (
        secret
          ? await jwtVerify(token, secret, options)
          : await jwtVerify(token, jwks as JWTVerifyGetKey, options)
      ).payload
    } catch (error) {
      throw new AuthError(4401, describeJwtError(error))
    }
    if (typeof payload.sub !== 'string' || payload.sub === '')
      throw new AuthError(4401, 'the token has no sub claim')
    const access = accessFor(readDocsClaim(payload.docs), room)
    return access === null ? null : { userId: payload.sub, access }
  }
}

/** Adapts an Authenticate function to the gateway's verdicts. */
export function verifierFrom(authenticate: Authenticate): Verifier {
  return async (token, room, request): Promise<AuthVerdict> => {
    try {
      const identity = await authenticate(token, room, request)
      if (identity === null) return { ok: false, code: 4403, reason: `no access to ${room}` }
      if (identity.access !== 'read' && identity.access !== 'write') {
        return { ok: false, code: 4403, reason: `no access to ${room}` }
      }
      return { ok: true, userId: identity.userId, canWrite: identity.access === 'write' }
    } catch (error) {
      if (error instanceof AuthError) return { ok: false, code: error.code, reason: error.message }
      throw error
    }
  }
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export function isLoopbackHost(host: string): boolean {
  return loopbackHosts.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** Open mode (no auth) is for a loopback host, or an explicit --allow-anonymous. */
export function checkOpenMode(config: Config): void {
  if (isLoopbackHost(config.host) || config.allowAnonymous) return
  throw new ConfigError(
    `refusing to serve ${config.host} without auth: set AUTH_SECRET or AUTH_JWKS, or pass --allow-anonymous to let anyone read and write`,
  )
}
