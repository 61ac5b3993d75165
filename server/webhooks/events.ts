// What the webhooks report, for metrics and logs to subscribe to (observers.ts), as the document core
// does with its events.

export interface WebhookEventMap {
  delivered: { id: string; room: string; attempts: number; status: number }
  /** One attempt failed; the event is retried after `retryInMs`. */
  failed: {
    id: string
    room: string
    attempt: number
    status: number | null
    error: string
    retryInMs: number
  }
  /** Given up: not delivered within --webhook-expiry. */
  expired: { id: string; room: string; attempts: number }
  /** Given up: the queue was full (--webhook-max-queue) and this was the oldest. */
  dropped: { id: string; room: string; attempts: number }
  /** Events waiting for delivery. */
  queue: { size: number }
}

type Listener<K extends keyof WebhookEventMap> = (event: WebhookEventMap[K]) => void

export class WebhookEvents {
  private readonly listeners: { [K in keyof WebhookEventMap]?: Listener<K>[] } = {}

  on<K extends keyof WebhookEventMap>(name: K, listener: Listener<K>): void {
    const list = (this.listeners[name] ?? []) as Listener<K>[]
    list.push(listener)
    ;(this.listeners as Record<string, unknown>)[name] = list
  }

  emit<K extends keyof WebhookEventMap>(name: K, event: WebhookEventMap[K]): void {
    for (const listener of (this.listeners[name] ?? []) as Listener<K>[]) listener(event)
  }
}
