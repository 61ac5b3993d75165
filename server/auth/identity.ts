// Auth in two steps: identity (token → who, verified once: the costly part, a signature check) and
// access (identity × room → a verdict, asked per room). A room list asks for many rooms on one token.
import type { IncomingMessage } from 'node:http'
import type { AuthVerdict } from './verdict.js'

/** Who sent a token: their verdict for any room, without verifying the token again. */
export interface Identity {
  accessTo(room: string): AuthVerdict | Promise<AuthVerdict>
  /** Every room this identity may read starts with one of these; absent, any room may be readable. */
  readonly prefixes?: readonly string[]
}

export type IdentityResult = { ok: true; identity: Identity } | { ok: false; code: 4401; reason: string }

/** Verifies a token once; a bad token (malformed, wrong key, expired…) is a 4401 result. */
export type Identify = (token: string, request: IncomingMessage) => Promise<IdentityResult>

/** The verdict of one room for one token, as the gateway asks it for a socket. */
export async function verdictFor(
  identify: Identify,
  token: string,
  room: string,
  request: IncomingMessage,
): Promise<AuthVerdict> {
  const result = await identify(token, request)
  return result.ok ? result.identity.accessTo(room) : result
}
