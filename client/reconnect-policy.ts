import { Closes } from '../server/protocol/close-codes.js'

/** Close codes after which reconnecting with the same credentials cannot succeed. */
export const authFailureCodes: ReadonlySet<number> = new Set([Closes.unauthenticated, Closes.forbidden])

/**
 * A `shouldReconnect` for y-websocket v3 providers talking to plait. y-websocket's default gives up on every
 * 44xx close; plait's 4408 (auth timeout) and 4429 (too much data before the auth verdict) are worth a retry
 * with backoff, while 4401 and 4403 and any other 44xx mean the server decided and retrying cannot help.
 */
export function shouldReconnect(event: { code: number }): boolean {
  if (event.code === Closes.authTimeout || event.code === Closes.rateLimited) return true
  return !(event.code >= 4400 && event.code < 4500)
}
