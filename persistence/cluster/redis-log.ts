// The Redis half of the cluster store: each room's log as a stream, its counter, its byte count and its
// compaction lease. Commands for many rooms are issued together and leave in one round trip per Redis
// node (ioredis auto-pipelining).

import { Cluster } from 'ioredis'
import { positionOfId } from './announcement.js'
import { type RedisClient, runScript } from './redis-connection.js'
import { type RoomKeys, roomKeys } from './redis-keys.js'

/** One entry of a room's log as read back from Redis. */
export interface LogRecord {
  position: number
  writer: string
  update: Uint8Array
}

/** One room's part of a write: its updates, and the position a compaction of it covers (0: none). */
export interface RoomAppend {
  room: string
  updates: Buffer[]
  trimThrough: number
}

/** What an append script answered for one room: its first position, or that it has no counter. */
export type AppendResult = { first: number } | { unseeded: true }

export class RedisLog {
  constructor(
    readonly client: RedisClient,
    readonly prefix: string,
    private readonly writer: string,
  ) {}

  keys(room: string): RoomKeys {
    return roomKeys(this.prefix, room)
  }

  /** Appends (and trims) every room at once; throws for any failure but a missing counter. */
  async append(rooms: RoomAppend[]): Promise<AppendResult[]> {
    const now = String(Date.now())
    const argsOf = ({ room, updates, trimThrough }: RoomAppend) => {
      const keys = this.keys(room)
      return [
        keys.counter,
        keys.stream,
        keys.info,
        keys.logChannel,
        now,
        this.writer,
        trimThrough,
        ...updates,
      ]
    }
    if (this.client instanceof Cluster) {
      // Auto-pipelined per shard (an explicit pipeline may not span slots).
      const settled = await Promise.allSettled(
        rooms.map((room) => runScript(this.client, 'plaitAppend', ...argsOf(room))),
      )
      return settled.map((result) =>
        result.status === 'fulfilled' ? appended(null, result.value) : appended(result.reason as Error, null),
      )
    }
    // One Redis: an explicit pipeline leaves now, where auto-pipelining would wait a turn.
    const pipeline = this.client.pipeline()
    for (const room of rooms) void runScript(pipeline, 'plaitAppend', ...argsOf(room))
    const replies = (await pipeline.exec()) ?? []
    return rooms.map((_, i) => {
      const [error, value] = replies[i] ?? [new Error('Redis gave no reply'), null]
      return appended(error, value)
    })
  }

  /** Starts counters that are missing at these positions (SET NX: a node that seeded first wins). */
  async seed(counters: { room: string; through: number }[]): Promise<void> {
    await Promise.all(
      counters.map(({ room, through }) => this.client.set(this.keys(room).counter, through, 'NX')),
    )
  }

  /** Every entry of the room's stream, oldest first. */
  async readAll(room: string): Promise<LogRecord[]> {
    return records(await this.client.xrangeBuffer(this.keys(room).stream, '-', '+'))
  }

  /** The entries after `after`, oldest first. */
  async readAfter(room: string, after: number): Promise<LogRecord[]> {
    return records(await this.client.xrangeBuffer(this.keys(room).stream, `(${after}-0`, '+'))
  }

  async head(room: string): Promise<number | null> {
    const head = await this.client.get(this.keys(room).counter)
    return head === null ? null : Number(head)
  }

  /** Bytes in each room's stream and when it was last appended to (null: unknown). */
  async describe(rooms: string[]): Promise<{ logBytes: number; lastChange: number | null }[]> {
    const infos = await Promise.all(rooms.map((room) => this.client.hmget(this.keys(room).info, 'lb', 'lc')))
    return infos.map(([logBytes, lastChange]) => ({
      logBytes: Number(logBytes ?? 0),
      lastChange: lastChange === null ? null : Number(lastChange),
    }))
  }

  async delete(room: string): Promise<void> {
    const keys = this.keys(room)
    await this.client.del(keys.counter, keys.stream, keys.info, keys.lease)
  }

  /** Writes a probe that expires and reads it back (checkWritable). */
  async probe(key: string, value: string): Promise<void> {
    await this.client.set(key, value, 'PX', 60_000)
    if ((await this.client.get(key)) !== value) throw new Error('the Redis probe read back differently')
  }

  async acquireLease(room: string, ms: number): Promise<boolean> {
    return (
      Number(await runScript(this.client, 'plaitAcquireLease', this.keys(room).lease, this.writer, ms)) === 1
    )
  }

  async releaseLease(room: string): Promise<void> {
    await runScript(this.client, 'plaitReleaseLease', this.keys(room).lease, this.writer)
  }
}

function appended(error: Error | null, value: unknown): AppendResult {
  if (error === null) return { first: Number(value) }
  if (error.message.startsWith('NOSEQ')) return { unseeded: true }
  throw error
}

function records(entries: [Buffer, Buffer[]][]): LogRecord[] {
  const list: LogRecord[] = []
  for (const [id, fields] of entries) {
    const update = fieldOf(fields, 'u')
    if (update !== null)
      list.push({ position: positionOfId(id), writer: fieldOf(fields, 'n')?.toString() ?? '', update })
  }
  return list
}

function fieldOf(fields: Buffer[], name: string): Buffer | null {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i].toString() === name) return fields[i + 1]
  return null
}
