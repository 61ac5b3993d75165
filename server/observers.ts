// Metrics and logs are subscribers of the document events, like any hook: nothing in the core counts
// or logs for them by hand.
import type { DocumentEvents } from './documents/events.js'
import type { Metrics } from './http/metrics.js'
import type { Logger } from './logger.js'

export function observeDocuments(events: DocumentEvents, metrics: Metrics, log: Logger): void {
  events.on('relayed', ({ ms }) => metrics.relayLatency.observe(ms))
  events.on('heldBack', ({ updates }) => {
    metrics.updatesHeldBack += updates
  })
  events.on('heldBackDropped', ({ updates }) => {
    metrics.heldBackDropped += updates
  })
  events.on('awarenessIgnored', ({ changes }) => {
    metrics.awarenessIgnored += changes
  })
  if (log.isLevelEnabled('debug')) {
    events.on('loaded', ({ room, updates, ms }) => log.debug({ room, updates, ms }, 'room loaded'))
    events.on('compacted', ({ room, snapshotBytes }) => log.debug({ room, snapshotBytes }, 'room compacted'))
    events.on('unloaded', ({ room }) => log.debug({ room }, 'room unloaded'))
  }
}
