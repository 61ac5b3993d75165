// Follows the logs of the rooms this node has loaded: every append, by any node, arrives in position
// order. Announcements (published by the append script) carry the updates, so following costs no
// extra read; positions are consecutive, so a missed announcement shows as a gap and is read back from
// the stream, and a follower behind a compaction's trim merges the stored room instead. After a
// reconnect every room catches up from its cursor.
import type { StoredRoom } from '../store.js'
import { type Announcement, decodeAnnouncement } from './announcement.js'
import type { ClusterStore, LogRecord } from './cluster-store.js'
import type { RedisClient } from './redis-connection.js'

export interface LogReader {
  /**
   * Entries `first`, `first + 1`, … of the room's log, all by `writer`; the follower never skips one.
   * `sentAt`: the writer's clock at the append (null when read back from the stream).
   */
  entries(first: number, writer: string, updates: Uint8Array[], sentAt: number | null): void
  /** The log no longer holds what follows the cursor: the stored room, through `stored.position`. */
  reload(stored: StoredRoom): void
  /**
   * Redis lost entries this node had followed (it restarted without them: no AOF, or appendfsync
   * everysec and a crash): the stored room as it is now, after which the cursor starts again. What the
   * node holds in memory beyond it is written back by the reader, or it is lost.
   */
  lost(stored: StoredRoom): void
  /** Catching up failed (Redis unreachable); it is retried. */
  failed?(error: Error): void
}

interface Followed {
  room: string
  cursor: number
  reader: LogReader
  catching: boolean
  again: boolean
  // Announcements that arrived while catching up.
  waiting: Announcement[]
  retry: NodeJS.Timeout | null
}

const RETRY_MS = 500

export class LogFollower {
  private readonly byChannel = new Map<string, Followed>()
  private closed = false

  constructor(
    private readonly store: ClusterStore,
    /** A connection in subscriber mode, shared with other listeners (it ignores their channels). */
    private readonly subscriber: RedisClient,
  ) {
    subscriber.on('messageBuffer', this.onMessage)
    // Announcements sent while the connection was down are lost: read them back.
    subscriber.on('ready', this.catchUpAll)
  }

  get rooms(): number {
    return this.byChannel.size
  }

  /** The cursor of each followed room: what this node has applied of its log. */
  cursorOf(room: string): number | null {
    return this.byChannel.get(this.store.keys(room).logChannel)?.cursor ?? null
  }

  /** Starts following `room` after position `after` (what its load read); resolves once caught up. */
  async follow(room: string, after: number, reader: LogReader): Promise<void> {
    const channel = this.store.keys(room).logChannel
    const followed: Followed = {
      room,
      cursor: after,
      reader,
      catching: true,
      again: false,
      waiting: [],
      retry: null,
    }
    this.byChannel.set(channel, followed)
    try {
      await this.subscriber.subscribe(channel)
    } catch {
      // Subscribed again with the rest when the connection is back (ioredis resubscribes).
    }
    followed.catching = false
    await this.catchUp(followed)
  }

  unfollow(room: string): void {
    const channel = this.store.keys(room).logChannel
    const followed = this.byChannel.get(channel)
    if (followed === undefined) return
    if (followed.retry !== null) clearTimeout(followed.retry)
    this.byChannel.delete(channel)
    this.subscriber.unsubscribe(channel).catch(() => {})
  }

  close(): void {
    this.closed = true
    this.subscriber.off('messageBuffer', this.onMessage)
    this.subscriber.off('ready', this.catchUpAll)
    for (const followed of this.byChannel.values()) if (followed.retry !== null) clearTimeout(followed.retry)
    this.byChannel.clear()
  }

  private readonly onMessage = (channel: Buffer, message: Buffer): void => {
    const followed = this.byChannel.get(channel.toString())
    if (followed === undefined) return
    const announcement = decodeAnnouncement(message)
    if (announcement !== null) this.deliver(followed, announcement)
  }

  private readonly catchUpAll = (): void => {
    for (const followed of this.byChannel.values()) void this.catchUp(followed)
  }

  private deliver(followed: Followed, announcement: Announcement): void {
    if (followed.catching) {
      followed.waiting.push(announcement)
      return
    }
    const { first, writer, updates, sentAt } = announcement
    const last = first + updates.length - 1
    if (last <= followed.cursor) return
    if (first > followed.cursor + 1) {
      // A gap: some announcement never arrived. The stream has it (or a snapshot covers it).
      followed.waiting.push(announcement)
      void this.catchUp(followed)
      return
    }
    const fresh = first > followed.cursor ? updates : updates.slice(followed.cursor + 1 - first)
    followed.cursor = last
    followed.reader.entries(last - fresh.length + 1, writer, fresh, sentAt)
  }

  /** Reads what follows the cursor from the stream, then delivers what arrived meanwhile. */
  private async catchUp(followed: Followed): Promise<void> {
    if (followed.catching) {
      followed.again = true
      return
    }
    followed.catching = true
    try {
      do {
        followed.again = false
        // A counter behind the cursor: Redis restarted without entries this node had seen.
        const head = await this.store.logHead(followed.room)
        if ((head ?? 0) < followed.cursor) {
          const stored = await this.store.load(followed.room)
          if (!this.isFollowed(followed)) return
          followed.cursor = stored.position
          followed.waiting = []
          followed.reader.lost(stored)
          continue
        }
        const records = await this.store.readTail(followed.room, followed.cursor)
        if (!this.isFollowed(followed)) return
        if (records.length > 0 && records[0].position !== followed.cursor + 1) {
          const stored = await this.store.load(followed.room)
          if (!this.isFollowed(followed)) return
          if (stored.position > followed.cursor) {
            followed.cursor = stored.position
            followed.reader.reload(stored)
          }
        } else this.deliverRecords(followed, records)
      } while (followed.again)
    } catch (error) {
      followed.reader.failed?.(error as Error)
      followed.catching = false
      this.retryLater(followed)
      return
    }
    followed.catching = false
    const waiting = followed.waiting
    followed.waiting = []
    for (const announcement of waiting) this.deliver(followed, announcement)
  }

  /** Consecutive records, one call per run of the same writer. */
  private deliverRecords(followed: Followed, records: LogRecord[]): void {
    let run: LogRecord[] = []
    const flush = () => {
      if (run.length === 0) return
      followed.cursor = run[run.length - 1].position
      followed.reader.entries(
        run[0].position,
        run[0].writer,
        run.map((record) => record.update),
        null,
      )
      run = []
    }
    for (const record of records) {
      if (record.position <= followed.cursor) continue
      if (
        run.length > 0 &&
        (run[0].writer !== record.writer || record.position !== run[run.length - 1].position + 1)
      )
        flush()
      if (run.length === 0 && record.position !== followed.cursor + 1) break
      run.push(record)
    }
    flush()
  }

  private isFollowed(followed: Followed): boolean {
    return !this.closed && this.byChannel.get(this.store.keys(followed.room).logChannel) === followed
  }

  private retryLater(followed: Followed): void {
    if (followed.retry !== null || !this.isFollowed(followed)) return
    followed.retry = setTimeout(() => {
      followed.retry = null
      void this.catchUp(followed)
    }, RETRY_MS)
    followed.retry.unref()
  }
}
