// One delivery attempt: a signed POST with a timeout. 2xx is delivered; anything else is a reason to retry.
import type { OutboxEntry } from './outbox.js'
import { signedHeaders } from './signing.js'

export type Attempt = { ok: true; status: number } | { ok: false; status: number | null; error: string }

export interface Sender {
  send(entry: OutboxEntry, signal: AbortSignal): Promise<Attempt>
}

export function httpSender(url: string, secret: string, timeoutMs: number): Sender {
  return {
    async send(entry, stop) {
      const signal = AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)])
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'plait-webhooks',
            ...signedHeaders(secret, entry.id, entry.body),
          },
          body: entry.body,
          signal,
          redirect: 'manual',
        })
        // The body is not read, only released, so a receiver cannot make plait buffer a large answer.
        await response.body?.cancel().catch(() => {})
        if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status }
        return { ok: false, status: response.status, error: `HTTP ${response.status}` }
      } catch (error) {
        const timedOut = signal.aborted && !stop.aborted
        const cause = (error as { cause?: { code?: string } }).cause?.code
        const reason = timedOut ? `no answer within ${timeoutMs} ms` : (cause ?? (error as Error).message)
        return { ok: false, status: null, error: reason }
      }
    },
  }
}
