// Whether the store can be trusted with writes, and the one way back once it could not.
// Any failed write makes the whole store suspect, not only the rooms of that batch: a LevelDB whose log
// append failed (ENOSPC) goes on accepting writes and serving them from memory, and loses every one of
// them at its next open. So after a write error the server is not ready, every loaded room is failed
// (clients keep their edits and resend them), and the store is trusted again only once it has been
// closed, reopened (LevelDB's recovery starts a fresh log) and has kept an fsynced probe. Attempts
// back off while they fail, e.g. while the disk is still full.
import type { DocumentStore } from '../../persistence/store.js'
import type { Metrics } from '../http/metrics.js'
import type { Logger } from '../logger.js'
import type { Unwritten } from './group-commit.js'

export interface StoreHealthHooks {
  /** What loaded rooms hold in memory may not be on disk: close them, clients resend. */
  failRooms(error: Error): void
  /** The store is proven again: writes may go to it. */
  resumeWrites(): void
}

export interface RetryDelays {
  firstMs: number
  maxMs: number
}

const defaultDelays: RetryDelays = { firstMs: 50, maxMs: 2000 }
// A log line names at most this many rooms; the counts cover all of them.
const ROOMS_LOGGED = 50

/** Room names with their counts of unwritten updates, at most ROOMS_LOGGED of them, for a log line. */
function roomsForLog(unwritten: Unwritten): Record<string, number> {
  const shown: Record<string, number> = {}
  let n = 0
  for (const [room, updates] of unwritten) {
    if (n++ === ROOMS_LOGGED) break
    shown[room] = updates
  }
  return shown
}

const totalOf = (unwritten: ReadonlyMap<string, number>) => [...unwritten.values()].reduce((a, b) => a + b, 0)
const counted = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`

/** What `server.close()` rejects with when storage failed and was not recovered before the stop. */
export class StorageFailedError extends Error {
  constructor(
    cause: Error,
    /** Updates never written, by room, since storage failed; their clients still hold them. */
    readonly unwritten: ReadonlyMap<string, number>,
  ) {
    const rooms = [...unwritten].map(([room, n]) => `${JSON.stringify(room)} (${n})`)
    const listed =
      rooms.length > ROOMS_LOGGED ? `${rooms.slice(0, ROOMS_LOGGED).join(', ')}, …` : rooms.join(', ')
    super(
      `storage failed (${cause.message}) and had not recovered when the server stopped; not written: ` +
        `${counted(totalOf(unwritten), 'update')} in ${counted(unwritten.size, 'room')}${rooms.length > 0 ? `: ${listed}` : ''}. ` +
        'Clients that still hold them resend them when they reconnect to a server with working storage.',
      { cause },
    )
    this.name = 'StorageFailedError'
  }
}

export class StoreHealth {
  private failure: { error: Error; at: number } | null = null
  // Since the store failed; cleared once it is proven again (clients then resend what it lacks).
  private readonly unwritten: Unwritten = new Map()
  private attempts = 0
  private timer: NodeJS.Timeout | null = null
  private attempt: Promise<void> | null = null
  private stopped = false

  constructor(
    private readonly store: DocumentStore,
    private readonly hooks: StoreHealthHooks,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly delays: RetryDelays = defaultDelays,
  ) {}

  get ready(): boolean {
    return this.failure === null
  }

  /** Why the store is not trusted, for /readyz; null while it is. */
  get reason(): string | null {
    if (this.failure === null) return null
    const since = new Date(this.failure.at).toISOString()
    const tried = this.attempts === 0 ? '' : ` (${counted(this.attempts, 'attempt')} so far)`
    return `storage write failed at ${since} (${this.failure.error.message}); reopening it${tried}`
  }

  /** The group commit could not write these updates (its rooms are failed already). */
  writeFailed(error: Error, unwritten: Unwritten): void {
    for (const [room, n] of unwritten) this.unwritten.set(room, (this.unwritten.get(room) ?? 0) + n)
    const updates = totalOf(unwritten)
    this.metrics.updatesUnwritten += updates
    const first = this.failure === null
    const fields = { err: error, updates, roomCount: unwritten.size, rooms: roomsForLog(unwritten) }
    if (!first) {
      this.log.error(fields, 'storage is still failing: refused a write; its clients keep it and resend it')
      return
    }
    this.failure = { error, at: Date.now() }
    this.metrics.storageFailures++
    this.log.error(
      fields,
      'storage write failed: not ready, closing every room (clients keep their edits and resend them), reopening storage',
    )
    this.hooks.failRooms(error)
    if (!this.stopped) this.retryIn(0)
  }

  /** For shutdown: no more attempts; resolves once the one under way is over. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.attempt
  }

  /** The error a stop must report, or null when storage is healthy. */
  failedError(): StorageFailedError | null {
    return this.failure === null ? null : new StorageFailedError(this.failure.error, new Map(this.unwritten))
  }

  private retryIn(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null
      this.attempt = this.recover().finally(() => {
        this.attempt = null
      })
    }, ms)
  }

  private async recover(): Promise<void> {
    const failure = this.failure
    if (failure === null || this.stopped) return
    this.attempts++
    try {
      await this.store.close()
      await this.store.open()
      await this.store.checkWritable()
    } catch (error) {
      this.metrics.storageRecoveryAttemptsFailed++
      // Closed again: nothing may read or write a store that cannot keep a write.
      await this.store.close().catch(() => {})
      const delay = Math.min(this.delays.maxMs, this.delays.firstMs * 2 ** (this.attempts - 1))
      // Every attempt while the disk stays full would be a line every maxMs: log the 1st, 2nd, 4th, 8th…
      const level = (this.attempts & (this.attempts - 1)) === 0 ? 'warn' : 'debug'
      this.log[level](
        { err: error, attempt: this.attempts, retryMs: delay },
        'storage still cannot keep a write; trying again',
      )
      if (!this.stopped) this.retryIn(delay)
      return
    }
    // A stop that began meanwhile reports the failure: nothing was resent to this process.
    if (this.stopped) return
    const updates = totalOf(this.unwritten)
    this.log.info(
      {
        attempts: this.attempts,
        ms: Date.now() - failure.at,
        updates,
        roomCount: this.unwritten.size,
        rooms: roomsForLog(this.unwritten),
      },
      'storage recovered: reopened and kept a synced probe; rooms load fresh from disk, clients resend what was not written',
    )
    this.metrics.storageRecoveries++
    this.failure = null
    this.unwritten.clear()
    this.attempts = 0
    this.hooks.resumeWrites()
  }
}
