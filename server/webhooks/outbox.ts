// The durable outbox: events not yet delivered, kept in <dataDir>/webhooks/outbox.jsonl so they survive a
// restart. One JSON line per record: {"add":entry} (fsynced before the event is sent) or {"done":id}
// (delivered, expired or dropped). At start, and when done records outnumber live ones, the file is
// rewritten with only the live entries (write, fsync, rename). A torn last line from a crash is skipped.

import type { FileHandle } from 'node:fs/promises'
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../logger.js'

export interface OutboxEntry {
  readonly id: string
  readonly room: string
  /** ms since the epoch: the event expires relative to this. */
  readonly createdAt: number
  /** The exact JSON body sent on every attempt. */
  readonly body: string
}

type Line = { add: OutboxEntry } | { done: string }

/** Rewrite once this many done records have piled up, and they outnumber the live entries. */
const COMPACT_AFTER = 1_000

export class Outbox {
  readonly path: string
  private readonly live = new Map<string, OutboxEntry>()
  private file: FileHandle | null = null
  private doneSinceRewrite = 0
  private waiting: OutboxEntry[] = []
  private nextWrite: Promise<void> | null = null
  /** File operations run one after another; a failed one does not stop the next. */
  private chain: Promise<void> = Promise.resolve()

  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {
    this.path = join(dir, 'outbox.jsonl')
  }

  get size(): number {
    return this.live.size
  }

  /** Reads what a previous run left, in the order it was queued; compacts the file. */
  async open(): Promise<OutboxEntry[]> {
    await mkdir(this.dir, { recursive: true })
    let text = ''
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    let unreadable = 0
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue
      let line: Line
      try {
        line = JSON.parse(raw) as Line
      } catch {
        unreadable++
        continue
      }
      if ('add' in line) this.live.set(line.add.id, line.add)
      else this.live.delete(line.done)
    }
    if (unreadable > 0)
      this.log.warn({ path: this.path, lines: unreadable }, 'webhook outbox: skipped unreadable lines')
    await this.rewrite()
    return [...this.live.values()]
  }

  /**
   * Resolves once the entries are on disk (fsync): only then are they sent. Entries appended while a write
   * is under way share the next one (one fsync for all the rooms whose batches closed meanwhile).
   */
  append(entries: readonly OutboxEntry[]): Promise<void> {
    for (const entry of entries) this.live.set(entry.id, entry)
    this.waiting.push(...entries)
    this.nextWrite ??= this.run(async (file) => {
      const batch = this.waiting
      this.waiting = []
      this.nextWrite = null
      await file.appendFile(batch.map((entry) => `${JSON.stringify({ add: entry })}\n`).join(''))
      await file.datasync()
    })
    return this.nextWrite
  }

  /** Not fsynced: a done record lost to a crash means one more delivery of an event, which receivers dedupe. */
  remove(ids: readonly string[]): Promise<void> {
    const gone = ids.filter((id) => this.live.delete(id))
    if (gone.length === 0) return Promise.resolve()
    this.doneSinceRewrite += gone.length
    return this.run(async (file) => {
      await file.appendFile(gone.map((id) => `${JSON.stringify({ done: id })}\n`).join(''))
      if (this.doneSinceRewrite >= COMPACT_AFTER && this.doneSinceRewrite > this.live.size)
        await this.rewrite()
    })
  }

  async close(): Promise<void> {
    await this.chain
    await this.file?.close()
    this.file = null
  }

  private run(task: (file: FileHandle) => Promise<void>): Promise<void> {
    const result = this.chain.then(() => {
      if (this.file === null) throw new Error('the webhook outbox is not open')
      return task(this.file)
    })
    this.chain = result.catch(() => {})
    return result
  }

  private async rewrite(): Promise<void> {
    const tmp = `${this.path}.tmp`
    const out = await open(tmp, 'w')
    try {
      await out.writeFile(
        [...this.live.values()].map((entry) => `${JSON.stringify({ add: entry })}\n`).join(''),
      )
      await out.sync()
    } finally {
      await out.close()
    }
    await this.file?.close()
    await rename(tmp, this.path)
    // The rename itself is durable only once the directory is synced.
    const dir = await open(this.dir, 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
    this.file = await open(this.path, 'a')
    this.doneSinceRewrite = 0
  }
}
