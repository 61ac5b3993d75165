// Signatures: HMAC-SHA256 over "<timestamp>.<body>" with the shared secret, so a receiver knows the
// event came from this server, unchanged, and recently (a captured request cannot be replayed later).
import { createHmac, timingSafeEqual } from 'node:crypto'

export const WebhookHeaders = {
  id: 'plait-webhook-id',
  timestamp: 'plait-webhook-timestamp',
  signature: 'plait-webhook-signature',
} as const

/** How far a timestamp may be from the receiver's clock, either way. */
export const REPLAY_WINDOW_SECONDS = 5 * 60

export function signature(secret: string, timestamp: number, body: string | Uint8Array): string {
  const hmac = createHmac('sha256', secret)
  hmac.update(`${timestamp}.`)
  hmac.update(body)
  return `v1=${hmac.digest('hex')}`
}

/** The headers of one delivery attempt (a fresh timestamp per attempt). */
export function signedHeaders(
  secret: string,
  id: string,
  body: string,
  now = Date.now(),
): Record<string, string> {
  const timestamp = Math.floor(now / 1000)
  return {
    'Plait-Webhook-Id': id,
    'Plait-Webhook-Timestamp': String(timestamp),
    'Plait-Webhook-Signature': signature(secret, timestamp, body),
  }
}

export type WebhookVerdict =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: 'missing headers' | 'bad signature' | 'timestamp outside the replay window' }

type HeaderSource = Headers | Record<string, string | string[] | undefined>

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const record = headers as Record<string, string | string[] | undefined>
  const key = Object.keys(record).find((k) => k.toLowerCase() === name)
  const value = key === undefined ? undefined : record[key]
  return Array.isArray(value) ? value[0] : value
}

/**
 * For receivers in Node: checks a delivery's signature against the raw body (the bytes as received,
 * before any JSON parsing) and that its timestamp is within 5 minutes of `now` (ms).
 */
export function verifyWebhook(
  secret: string,
  headers: HeaderSource,
  body: string | Uint8Array,
  now = Date.now(),
): WebhookVerdict {
  const id = header(headers, WebhookHeaders.id)
  const stamp = header(headers, WebhookHeaders.timestamp)
  const signatures = header(headers, WebhookHeaders.signature)
  if (id === undefined || stamp === undefined || signatures === undefined || !/^\d+$/.test(stamp))
    return { ok: false, reason: 'missing headers' }
  const timestamp = Number(stamp)
  if (Math.abs(now / 1000 - timestamp) > REPLAY_WINDOW_SECONDS)
    return { ok: false, reason: 'timestamp outside the replay window' }
  const expected = Buffer.from(signature(secret, timestamp, body))
  // Several space-separated signatures are accepted, so a secret can be rotated without a gap.
  const matches = signatures.split(' ').some((candidate) => {
    const given = Buffer.from(candidate)
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
  return matches ? { ok: true, id, timestamp } : { ok: false, reason: 'bad signature' }
}
