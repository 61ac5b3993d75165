// Who may read and who may write each room: JWTs (HS256 secret or a JWKS of public keys) or an
// embedding app's own `authenticate` hook, turned into an Identify (verify a token once) whose identity
// answers per room (see identity.ts).
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose'
import { type Config, ConfigError } from '../cli/config.js'
import { type Access, accessFor, type DocsClaim, DocsClaimError, readDocsClaim } from './access.js'
import type { Identify } from './identity.js'
import type { AuthVerdict } from './verdict.js'

export type { Access } from './access.js'

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

const noAccess = (room: string): AuthVerdict => ({ ok: false, code: 4403, reason: `no access to ${room}` })

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

/**
 * The JWT check configured by --auth-secret / --auth-jwks, or null when neither is set. The signature is
 * checked once per token; each room is then a lookup in its docs claim.
 */
export function jwtIdentify(config: Config): Identify | null {
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
  return async (token) => {
    let payload: Record<string, unknown>
    try {
      payload = (
        secret
          ? await jwtVerify(token, secret, options)
          : await jwtVerify(token, jwks as JWTVerifyGetKey, options)
      ).payload
    } catch (error) {
      return { ok: false, code: 4401, reason: describeJwtError(error) }
    }
    const userId = payload.sub
    if (typeof userId !== 'string' || userId === '')
      return { ok: false, code: 4401, reason: 'the token has no sub claim' }
    let docs: DocsClaim
    try {
      docs = readDocsClaim(payload.docs)
    } catch (error) {
      if (error instanceof DocsClaimError) return { ok: false, code: 4401, reason: error.message }
      throw error
    }
    const identity = {
      // A pattern "team/*" covers names starting "team/"; an exact name is a prefix of itself.
      prefixes: [...docs.keys()].map((pattern) => (pattern.endsWith('*') ? pattern.slice(0, -1) : pattern)),
      accessTo(room: string): AuthVerdict {
        const access = accessFor(docs, room)
        return access === null ? noAccess(room) : { ok: true, userId, canWrite: access === 'write' }
      },
    }
    return { ok: true, identity }
  }
}

/**
 * An embedding app's hook as an Identify. The hook decides per room, so the token is "verified" by the
 * hook on every room it is asked about; a hook that throws AuthError(4401) says the token itself is bad.
 */
export function hookIdentify(authenticate: Authenticate): Identify {
  return async (token, request) => ({
    ok: true,
    identity: {
      async accessTo(room: string): Promise<AuthVerdict> {
        try {
          const identity = await authenticate(token, room, request)
          if (identity === null) return noAccess(room)
          if (identity.access !== 'read' && identity.access !== 'write') return noAccess(room)
          return { ok: true, userId: identity.userId, canWrite: identity.access === 'write' }
        } catch (error) {
          if (error instanceof AuthError) return { ok: false, code: error.code, reason: error.message }
          throw error
        }
      },
    },
  })
}
