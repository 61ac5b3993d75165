import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { LevelStore } from '../persistence/level/level-store.js'
import { StoreHealth } from '../server/documents/store-health.js'
import { Metrics } from '../server/http/metrics.js'
import { createLogger } from '../server/logger.js'
import { waitFor } from './helpers/clients.js'
import { unmet } from './helpers/requirements.js'
import { LogCapture } from './helpers/server.js'
import { fillDisk, mountTmpfs, removeFiller } from './helpers/tmpfs.js'

const tmpfs = mountTmpfs('2m')
const skip = unmet(typeof tmpfs === 'string' ? tmpfs : null)
const fs = typeof tmpfs === 'string' ? null : tmpfs

const update = (byte: number, size = 16 * 1024) => new Uint8Array(size).fill(byte)
const append = (room: string, bytes = update(1)) => ({ appends: [{ room, update: bytes }], compactions: [] })

/** Appends updates until one fails (the disk is full); bounded in count. */
async function writeUntilFull(store: LevelStore, room: string): Promise<Error> {
  for (let i = 0; i < 500; i++) {
    try {
      await store.write(append(room, update(i)))
    } catch (error) {
      return error as Error
    }
  }
  throw new Error('500 writes of 16 KiB fitted on a full 2 MiB disk')
}

describe('store health on a real full disk', { skip }, () => {
  after(() => fs?.unmount())

  test('LevelDB keeps accepting writes after one failed for lack of space, and loses them at the next open', async () => {
    // Why the server reopens a store after any failed write: this is the silent loss it prevents.
    const dir = join(fs?.dir ?? '', 'mechanism')
    const filler = join(fs?.dir ?? '', 'filler')
    const store = new LevelStore(dir)
    await store.open()
    try {
      await store.write(append('a'))
      fillDisk(filler)
      const error = await writeUntilFull(store, 'a')
      assert.match(error.message, /No space left on device/)
      removeFiller(filler)
      const before = (await store.load('a')).position
      const [served] = (await store.write(append('a', update(0xee, 100)))).positions
      assert.equal((await store.load('a')).position, served, 'the write is served from memory')
      await store.close()
      await store.open()
      assert.equal((await store.load('a')).position, before, 'and gone after a reopen')
      // The store reads where the log ends again after the reopen, so it does not leave a gap.
      const [kept] = (await store.write(append('a', update(0xee, 100)))).positions
      assert.equal(kept, before + 1)
      await store.close()
      await store.open()
      assert.equal((await store.load('a')).position, kept, 'a write after the reopen is kept')
    } finally {
      removeFiller(filler)
      await store.close()
    }
  })

  test('a failed write: not ready and rooms failed; reopen attempts fail while the disk is full; freed, it recovers and writes are kept', async () => {
    const dir = join(fs?.dir ?? '', 'health')
    const filler = join(fs?.dir ?? '', 'filler')
    const store = new LevelStore(dir)
    const logs = new LogCapture()
    const metrics = new Metrics()
    const calls: string[] = []
    const health = new StoreHealth(
      store,
      { failRooms: () => calls.push('failRooms'), resumeWrites: () => calls.push('resumeWrites') },
      createLogger('debug', logs),
      metrics,
      { firstMs: 10, maxMs: 100 },
    )
    await store.open()
    try {
      await store.write(append('notes'))
      fillDisk(filler)
      const error = await writeUntilFull(store, 'notes')
      health.writeFailed(error, new Map([['notes', 3]]))
      assert.equal(health.ready, false)
      assert.match(health.reason ?? '', /No space left on device/)
      assert.deepEqual(calls, ['failRooms'])
      const failedLine = logs.lines.find((l) => String(l.msg).startsWith('storage write failed'))
      assert.deepEqual(failedLine?.rooms, { notes: 3 }, 'the log names what was not written')
      await waitFor(
        () => metrics.storageRecoveryAttemptsFailed >= 3,
        'reopen attempts to fail on the full disk',
      )
      assert.equal(health.ready, false, 'still not ready while the disk is full')
      assert.equal(store.isOpen, false, 'the store stays closed between attempts')
      assert.match(health.failedError()?.message ?? '', /not written: 3 updates in 1 room: "notes" \(3\)/)

      const freed = Date.now()
      removeFiller(filler)
      await waitFor(() => health.ready, 'the store to recover once space is freed')
      const recoveredMs = Date.now() - freed
      assert.ok(
        recoveredMs < 1000,
        `recovered ${recoveredMs} ms after space was freed (retries back off to 100 ms)`,
      )
      assert.deepEqual(calls, ['failRooms', 'resumeWrites'])
      assert.equal(metrics.storageFailures, 1)
      assert.equal(metrics.storageRecoveries, 1)
      assert.equal(health.failedError(), null)
      assert.ok(logs.lines.some((l) => String(l.msg).startsWith('storage recovered')))

      const [position] = (await store.write(append('notes'))).positions
      await store.close()
      await store.open()
      assert.equal((await store.load('notes')).position, position, 'a write after recovery survives a reopen')
    } finally {
      await health.stop()
      removeFiller(filler)
      await store.close()
    }
  })

  test('stopped while the disk is full: no more attempts, and the stop reports what was not written', async () => {
    const dir = join(fs?.dir ?? '', 'stopped')
    const filler = join(fs?.dir ?? '', 'filler')
    const store = new LevelStore(dir)
    const metrics = new Metrics()
    const health = new StoreHealth(
      store,
      { failRooms: () => {}, resumeWrites: () => {} },
      createLogger('silent'),
      metrics,
      { firstMs: 10, maxMs: 50 },
    )
    await store.open()
    try {
      await store.write(append('a'))
      fillDisk(filler)
      health.writeFailed(await writeUntilFull(store, 'a'), new Map([['a', 2]]))
      health.writeFailed(new Error('refused'), new Map([['b', 1]]))
      await waitFor(() => metrics.storageRecoveryAttemptsFailed >= 1, 'a reopen attempt to fail')
      await health.stop()
      const attempts = metrics.storageRecoveryAttemptsFailed
      removeFiller(filler)
      // A window for something not to happen (at least four retry periods), not a synchronisation.
      await new Promise((r) => setTimeout(r, 200))
      assert.equal(metrics.storageRecoveryAttemptsFailed, attempts, 'no attempt after stop')
      assert.equal(health.ready, false)
      const error = health.failedError()
      assert.deepEqual(error === null ? null : [...error.unwritten], [
        ['a', 2],
        ['b', 1],
      ])
      assert.match(error?.message ?? '', /3 updates in 2 rooms: "a" \(2\), "b" \(1\)/)
    } finally {
      removeFiller(filler)
      await store.close()
    }
  })
})
