// Metrics and logs for the webhooks, as subscribers (like server/observers.ts for the documents).
// A receiver that is down fails every attempt: the first failure of a run is a warning, the rest debug,
// and its recovery is one info line.
import type { Metrics } from '../http/metrics.js'
import type { Logger } from '../logger.js'
import type { WebhookEvents } from './events.js'

export function observeWebhooks(events: WebhookEvents, metrics: Metrics, log: Logger): void {
  let failing = false
  events.on('delivered', ({ id, room, attempts, status }) => {
    metrics.webhooksDelivered++
    if (failing) log.info({ id, room, attempts }, 'webhook receiver answers again')
    else log.debug({ id, room, attempts, status }, 'webhook delivered')
    failing = false
  })
  events.on('failed', ({ id, room, attempt, status, error, retryInMs }) => {
    metrics.webhooksFailed++
    log[failing ? 'debug' : 'warn'](
      { id, room, attempt, status, error, retryInMs },
      'webhook delivery failed; retrying',
    )
    failing = true
  })
  events.on('expired', ({ id, room, attempts }) => {
    metrics.webhooksExpired++
    log.warn({ id, room, attempts }, 'webhook expired undelivered (--webhook-expiry)')
  })
  events.on('dropped', ({ id, room, attempts }) => {
    metrics.webhooksDropped++
    log.warn({ id, room, attempts }, 'webhook dropped undelivered: the queue is full (--webhook-max-queue)')
  })
  events.on('queue', ({ size }) => {
    metrics.webhookQueue = size
  })
}
