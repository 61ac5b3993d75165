// Runs the extensions' hooks. Document events are queued as they happen and handed to the hooks one at a
// time, extension by extension, in order; each call may take up to `timeoutMs`. A hook that throws or
// times out is logged with its room and the queue moves on. The queue is bounded: past it the oldest
// events are dropped (logged, counted), so a stuck hook cannot grow memory.
import type { DocumentEventMap, DocumentEvents } from '../documents/events.js'
import type { Logger } from '../logger.js'
import { type Extension, hookEvents, type LoadContext } from './extension.js'

type HookName = keyof typeof hookEvents
type Queued = { hook: HookName; event: { room: string } }

const MAX_QUEUED = 10_000
const DEFAULT_TIMEOUT_MS = 10_000

export class HookRunner {
  private queue: Queued[] = []
  private running = false
  private idleWaiters: (() => void)[] = []
  dropped = 0

  constructor(
    private readonly extensions: readonly Extension[],
    private readonly log: Logger,
  ) {}

  /** Subscribes the hooks any extension has to their document events. */
  attach(events: DocumentEvents): void {
    for (const [hook, name] of Object.entries(hookEvents) as [HookName, keyof DocumentEventMap][]) {
      if (!this.extensions.some((extension) => extension[hook] !== undefined)) continue
      events.on(name, (event) => this.enqueue(hook, event))
    }
  }

  /** The extensions' onLoad hooks, in order, awaited (each bounded by the timeout); never throws. */
  async load(context: LoadContext): Promise<void> {
    for (const extension of this.extensions) {
      if (extension.onLoad === undefined) continue
      await this.call(extension, 'onLoad', context.room, () => extension.onLoad?.(context))
    }
  }

  /** Resolves once every queued event has been handed to the hooks (for a graceful stop). */
  whenIdle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private enqueue(hook: HookName, event: { room: string }): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.queue.shift()
      if (this.dropped++ % 1000 === 0)
        this.log.warn(
          { room: event.room, dropped: this.dropped },
          'hooks are behind; dropped the oldest events',
        )
    }
    this.queue.push({ hook, event })
    if (!this.running) {
      this.running = true
      setImmediate(() => this.drain())
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const { hook, event } = this.queue.shift() as Queued
      for (const extension of this.extensions) {
        const run = extension[hook] as ((e: typeof event) => void | Promise<void>) | undefined
        if (run !== undefined) await this.call(extension, hook, event.room, () => run.call(extension, event))
      }
    }
    this.running = false
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  private async call(
    extension: Extension,
    hook: string,
    room: string,
    run: () => void | Promise<void>,
  ): Promise<void> {
    const timeoutMs = extension.timeoutMs ?? DEFAULT_TIMEOUT_MS
    let timer: NodeJS.Timeout | undefined
    try {
      const result = run()
      if (result === undefined || typeof (result as Promise<void>).then !== 'function') return
      await Promise.race([
        result,
        new Promise<void>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)
        }),
      ])
    } catch (error) {
      this.log.error({ room, hook, err: error }, 'a hook failed; the room carries on')
    } finally {
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}
