// The delivery loop: one attempt in flight at a time, the due event with the earliest time first, each
// event retried on its own backoff until it is delivered or expires. It runs on timers and promises only,
// never on the document path: a slow or dead receiver delays its own queue and nothing else.
import type { Logger } from '../logger.js'
import { retryDelay } from './backoff.js'
import type { WebhookEvents } from './events.js'
import type { Outbox, OutboxEntry } from './outbox.js'
import type { Sender } from './sender.js'

export interface DeliveryOptions {
  retryBaseMs: number
  retryMaxMs: number
  expiryMs: number
  maxQueue: number
}

/** setTimeout's longest delay (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

interface Scheduled {
  readonly entry: OutboxEntry
  attempts: number
  nextAt: number
}

export class Delivery {
  /** In the order queued, so the first is the oldest (the one dropped when full). */
  private readonly queue = new Map<string, Scheduled>()
  private timer: NodeJS.Timeout | null = null
  private inFlight: Promise<void> | null = null
  private readonly stopping = new AbortController()

  constructor(
    private readonly outbox: Outbox,
    private readonly sender: Sender,
    private readonly options: DeliveryOptions,
    private readonly events: WebhookEvents,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.queue.size
  }

  /** Queues entries that are already in the outbox. */
  add(entries: readonly OutboxEntry[]): void {
    const now = this.now()
    for (const entry of entries) this.queue.set(entry.id, { entry, attempts: 0, nextAt: now })
    while (this.queue.size > this.options.maxQueue) {
      const [oldest] = this.queue.values()
      this.giveUp(oldest, 'dropped')
    }
    this.events.emit('queue', { size: this.queue.size })
    this.kick()
  }

  /** Aborts the attempt in flight: its event stays in the outbox and is sent again after a restart. */
  async stop(): Promise<void> {
    this.stopping.abort()
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.inFlight
  }

  private kick(): void {
    if (this.stopping.signal.aborted || this.inFlight !== null) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    const now = this.now()
    let next: Scheduled | null = null
    let wakeAt = Number.POSITIVE_INFINITY
    // A scan per attempt: the queue is bounded and attempts are far rarer than document changes.
    for (const scheduled of [...this.queue.values()]) {
      const expiresAt = scheduled.entry.createdAt + this.options.expiryMs
      if (now >= expiresAt) {
        this.giveUp(scheduled, 'expired')
        continue
      }
      wakeAt = Math.min(wakeAt, expiresAt)
      if (next === null || scheduled.nextAt < next.nextAt) next = scheduled
    }
    if (next === null) return
    if (next.nextAt > now) {
      this.timer = setTimeout(() => this.kick(), Math.min(wakeAt, next.nextAt, now + MAX_TIMER_MS) - now)
      this.timer.unref()
      return
    }
    this.inFlight = this.attempt(next)
      .catch((error: unknown) => this.log.error({ err: error }, 'webhook delivery: unexpected error'))
      .finally(() => {
        this.inFlight = null
        this.kick()
      })
  }

  private async attempt(scheduled: Scheduled): Promise<void> {
    const { entry } = scheduled
    const result = await this.sender.send(entry, this.stopping.signal)
    if (this.stopping.signal.aborted || !this.queue.has(entry.id)) return
    scheduled.attempts++
    if (result.ok) {
      this.queue.delete(entry.id)
      this.forget(entry.id)
      this.events.emit('delivered', {
        id: entry.id,
        room: entry.room,
        attempts: scheduled.attempts,
        status: result.status,
      })
      this.events.emit('queue', { size: this.queue.size })
      return
    }
    const retryInMs = retryDelay(scheduled.attempts, this.options.retryBaseMs, this.options.retryMaxMs)
    scheduled.nextAt = this.now() + retryInMs
    this.events.emit('failed', {
      id: entry.id,
      room: entry.room,
      attempt: scheduled.attempts,
      status: result.status,
      error: result.error,
      retryInMs,
    })
  }

  private giveUp(scheduled: Scheduled, why: 'expired' | 'dropped'): void {
    const { entry } = scheduled
    this.queue.delete(entry.id)
    this.forget(entry.id)
    this.events.emit(why, { id: entry.id, room: entry.room, attempts: scheduled.attempts })
    this.events.emit('queue', { size: this.queue.size })
  }

  private forget(id: string): void {
    this.outbox
      .remove([id])
      .catch((error: unknown) =>
        this.log.error({ err: error, id }, 'webhook outbox: could not record a finished event'),
      )
  }
}
