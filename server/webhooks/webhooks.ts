// The webhooks as one part: document changes in (the `changed` event), debounced per room, turned into
// signed events, kept in the durable outbox and delivered with retries. Nothing in the document core
// knows about it.
import { join } from 'node:path'
import type { DocumentHandle } from '../documents/document-handle.js'
import type { DocumentEvents } from '../documents/events.js'
import type { Metrics } from '../http/metrics.js'
import type { Logger } from '../logger.js'
import { type Config, ConfigError } from '../options/resolve.js'
import { RoomDebouncer } from './debounce.js'
import { Delivery } from './delivery.js'
import { WebhookEvents } from './events.js'
import { observeWebhooks } from './observers.js'
import { Outbox, type OutboxEntry } from './outbox.js'
import { type ChangeBatch, eventOf } from './payload.js'
import { httpSender } from './sender.js'

export interface WebhookDeps {
  config: Config
  documents: DocumentEvents
  /** For the `text` field: the live document, released right after it is read. */
  openDocument: (room: string) => Promise<DocumentHandle>
  metrics: Metrics
  log: Logger
}

/** Why these options cannot work, as a sentence, or null. */
export function webhookConfigProblem(config: Config): string | null {
  if (config.webhookUrl === null) return null
  let url: URL
  try {
    url = new URL(config.webhookUrl)
  } catch {
    return `--webhook-url "${config.webhookUrl}" is not a URL`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return '--webhook-url must be an http:// or https:// URL'
  if (config.webhookSecret === null || config.webhookSecret.length < 16)
    return '--webhook-secret (at least 16 characters) is required with --webhook-url: receivers check the signature'
  const positive: [number, string][] = [
    [config.webhookDebounceMs, '--webhook-debounce'],
    [config.webhookMaxWaitMs, '--webhook-max-wait'],
    [config.webhookTimeoutMs, '--webhook-timeout'],
    [config.webhookRetryBaseMs, '--webhook-retry-base'],
    [config.webhookRetryMaxMs, '--webhook-retry-max'],
    [config.webhookExpiryMs, '--webhook-expiry'],
    [config.webhookMaxQueue, '--webhook-max-queue'],
  ]
  for (const [value, flag] of positive) if (!(value > 0)) return `${flag} must be greater than 0`
  if (config.webhookMaxWaitMs < config.webhookDebounceMs)
    return '--webhook-max-wait must not be shorter than --webhook-debounce'
  if (config.webhookRetryMaxMs < config.webhookRetryBaseMs)
    return '--webhook-retry-max must not be shorter than --webhook-retry-base'
  return null
}

export class Webhooks {
  readonly events = new WebhookEvents()
  private readonly debouncer: RoomDebouncer
  private readonly outbox: Outbox
  private readonly delivery: Delivery
  private readonly unsubscribe: () => void
  private readonly enqueuing = new Set<Promise<void>>()
  private started = false
  private readonly ready: Promise<void>
  private markReady: () => void = () => {}

  constructor(private readonly deps: WebhookDeps) {
    const { config, log } = deps
    const problem = webhookConfigProblem(config)
    if (problem !== null) throw new ConfigError(problem)
    if (config.webhookUrl === null || config.webhookSecret === null)
      throw new ConfigError('--webhook-url is not set')
    this.ready = new Promise((resolve) => {
      this.markReady = resolve
    })
    observeWebhooks(this.events, deps.metrics, log)
    this.outbox = new Outbox(join(config.dataDir, 'webhooks'), log)
    const sender = httpSender(config.webhookUrl, config.webhookSecret, config.webhookTimeoutMs)
    this.delivery = new Delivery(
      this.outbox,
      sender,
      {
        retryBaseMs: config.webhookRetryBaseMs,
        retryMaxMs: config.webhookRetryMaxMs,
        expiryMs: config.webhookExpiryMs,
        maxQueue: config.webhookMaxQueue,
      },
      this.events,
      log,
    )
    this.debouncer = new RoomDebouncer(config.webhookDebounceMs, config.webhookMaxWaitMs, (batch) =>
      this.track(this.enqueue(batch)),
    )
    // A change relayed from another cluster node is reported by the node where it was made.
    this.unsubscribe = deps.documents.on('changed', ({ room, origins }) => {
      const relayed = origins.length > 0 && origins.every((origin) => origin.kind === 'remote')
      if (!relayed) this.debouncer.add(room, origins)
    })
  }

  /** Opens the outbox (once the data directory is ours) and sends what a previous run left. */
  async start(): Promise<void> {
    const left = await this.outbox.open()
    this.started = true
    this.markReady()
    if (left.length > 0) this.deps.log.info({ events: left.length }, 'webhooks: resuming undelivered events')
    this.delivery.add(left)
  }

  /** Turns every room's open batch into an event now, and waits until they are in the outbox. */
  async flush(): Promise<void> {
    if (!this.started) return
    this.debouncer.flushAll()
    while (this.enqueuing.size > 0) await Promise.all([...this.enqueuing])
  }

  /**
   * Stops delivering (an attempt still in flight is aborted and sent again after a restart), turns the
   * open batches into events in the outbox, and closes it.
   */
  async close(): Promise<void> {
    this.unsubscribe()
    if (!this.started) return
    await this.delivery.stop()
    await this.flush()
    await this.outbox.close()
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'webhooks: could not queue an event'))
      .finally(() => this.enqueuing.delete(tracked))
    this.enqueuing.add(tracked)
  }

  private async enqueue(batch: ChangeBatch): Promise<void> {
    await this.ready
    const text = await this.readText(batch.room)
    const now = Date.now()
    const event = eventOf(batch, now, text)
    const entry: OutboxEntry = { id: event.id, room: event.room, createdAt: now, body: JSON.stringify(event) }
    try {
      await this.outbox.append([entry])
    } catch (error) {
      // Still sent; only a restart before delivery would lose it.
      this.deps.log.error({ err: error, id: entry.id, room: entry.room }, 'webhook outbox: write failed')
    }
    this.delivery.add([entry])
  }

  private async readText(room: string): Promise<string | undefined> {
    const name = this.deps.config.webhookText
    if (name === null) return undefined
    let handle: DocumentHandle
    try {
      handle = await this.deps.openDocument(room)
    } catch (error) {
      this.deps.log.debug({ room, err: error }, 'webhook: room not open for its text; sent without')
      return undefined
    }
    try {
      return handle.doc.getText(name).toString()
    } catch (error) {
      // The name holds another shared type (a map, an array).
      this.deps.log.debug({ room, err: error }, 'webhook: no Y.Text by that name; sent without text')
      return undefined
    } finally {
      handle.release()
    }
  }
}
