// The real server (dist/plait.mjs) on a real 2 MiB filesystem that fills up, with stock y-websocket
// clients: nothing anyone saw is lost, before or after the disk is freed, across either kind of restart.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { connectProvider, synced, type TestProvider, upgradeStatus, waitFor } from './helpers/clients.js'
import { freePort, PlaitProcess } from './helpers/plait-process.js'
import { unmet } from './helpers/requirements.js'
import { fillDisk, mountTmpfs, removeFiller, type Tmpfs, tmpfsUnavailable } from './helpers/tmpfs.js'

const EDIT_BYTES = 8 * 1024
const MARKER = /<[er]\d+>/g
// After a failed append LevelDB's log is misaligned, and records from the next 32 KiB block boundary on
// are unreadable at the next open: writing past two blocks after recovery proves the log is a fresh one.
const EDITS_AFTER_RECOVERY = 10

async function probe(plait: PlaitProcess, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${plait.url}${path}`)
  return { status: response.status, body: await response.text() }
}

/** Polls an async condition, bounded in time (waitFor takes only synchronous ones). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1])

interface Scene {
  flags: string[]
  fs: Tmpfs
  plait: PlaitProcess
  dataDir: string
  filler: string
  clients: TestProvider[]
  writer: TestProvider
  observer: TestProvider
  /** Every marker the observer ever had in its document. */
  seen: Set<string>
  /** Close codes and reasons the writer's provider saw, in order (failed reconnects included). */
  writerCloses: { code: number; reason: string; at: number }[]
}

/** Mounts the tmpfs, with plait (not started) and a writer and an observer for "notes". */
async function setUp(flags: string[] = []): Promise<Scene> {
  const fs = mountTmpfs('2m')
  if (typeof fs === 'string') throw new Error(fs)
  const dataDir = join(fs.dir, 'data')
  const plait = new PlaitProcess(await freePort(), flags, dataDir)
  const scene: Scene = {
    flags,
    fs,
    plait,
    dataDir,
    filler: join(fs.dir, 'filler'),
    clients: [],
    writer: connectProvider(plait.wsUrl, 'notes', { connect: false }),
    observer: connectProvider(plait.wsUrl, 'notes', { connect: false }),
    seen: new Set(),
    writerCloses: [],
  }
  scene.clients.push(scene.writer, scene.observer)
  scene.observer.doc.on('update', () => {
    for (const [marker] of scene.observer.text.toString().matchAll(MARKER)) scene.seen.add(marker)
  })
  scene.writer.provider.on('connection-close', (event) => {
    if (event) scene.writerCloses.push({ code: event.code, reason: event.reason, at: Date.now() })
  })
  return scene
}

async function start(scene: Scene): Promise<void> {
  await scene.plait.start()
  scene.writer.provider.connect()
  scene.observer.provider.connect()
  await synced(scene.writer, scene.observer)
}

async function tearDown(scene: Scene): Promise<void> {
  for (const client of scene.clients) client.destroy()
  try {
    await scene.plait.crash()
  } finally {
    removeFiller(scene.filler)
    scene.fs.unmount()
  }
}

/** Fills the disk (a filler file, then the writer's edits) until the server closes the writer. */
async function fillUntilFailing(scene: Scene): Promise<void> {
  const { writer } = scene
  fillDisk(scene.filler, 256 * 1024)
  const storageClose = () => scene.writerCloses.some((c) => c.code === 1011)
  for (let i = 0; i < 500 && !storageClose(); i++) {
    writer.text.insert(writer.text.length, `<e${i}>${'x'.repeat(EDIT_BYTES)}`)
    // One edit at a time: each is either seen by the observer (durable) or closes the writer.
    await waitFor(() => scene.seen.has(`<e${i}>`) || storageClose(), `edit ${i} to be relayed or refused`)
  }
  assert.ok(storageClose(), 'the writer was closed once the disk was full')
  assert.ok(scene.seen.size > 0, 'some edits were relayed before the disk filled')
}

/** Everything the observer saw is in the room as a fresh client gets it from `plait`. */
async function assertKept(plait: PlaitProcess, seen: Set<string>, expected: string) {
  const reader = connectProvider(plait.wsUrl, 'notes')
  try {
    await synced(reader)
    const text = reader.text.toString()
    const missing = [...seen].filter((marker) => !text.includes(marker))
    assert.deepEqual(missing, [], `every edit anyone saw is kept (of ${seen.size})`)
    assert.equal(text.length, expected.length)
    assert.equal(text, expected)
  } finally {
    reader.destroy()
  }
}

describe('a full disk', { skip: unmet(tmpfsUnavailable()) }, () => {
  const runs = [
    { restart: 'SIGTERM', flags: [] },
    { restart: 'kill -9', flags: [] },
    { restart: 'kill -9', flags: ['--sync-writes'] },
  ] as const
  for (const { restart, flags } of runs) {
    const title = `clients are closed and resend after recovery; every edit anyone saw survives a ${restart} restart`
    test(`${title}${flags.length > 0 ? ` (${flags.join(' ')})` : ''}`, async (t) => {
      const scene = await setUp([...flags])
      const { writer, observer } = scene
      try {
        await start(scene)
        const bystander = connectProvider(scene.plait.wsUrl, 'other')
        scene.clients.push(bystander)
        const bystanderCloses: number[] = []
        bystander.provider.on('connection-close', (event) => {
          if (event) bystanderCloses.push(event.code)
        })
        await synced(bystander)
        bystander.text.insert(0, 'a room that never wrote during the outage')

        await fillUntilFailing(scene)
        const storageClose = scene.writerCloses.find((c) => c.code === 1011)
        assert.match(storageClose?.reason ?? '', /storage is failing; your edits are kept by your client/)
        const ready = await probe(scene.plait, '/readyz')
        assert.equal(ready.status, 503)
        assert.match(JSON.parse(ready.body).reason, /storage write failed .*No space left on device/)
        assert.equal(await upgradeStatus(scene.plait.port, '/notes'), 503, 'upgrades are refused')
        // The whole store is suspect, not only the rooms of the failed batch.
        await waitFor(() => bystanderCloses.includes(1011), 'the other room to be closed too')
        // Stock clients retry; refused before connecting, their backoff grows.
        const outageStart = storageClose?.at ?? Date.now()
        await waitFor(() => scene.writerCloses.length >= 5, 'the writer to retry a few times', 20_000)
        const metrics = await probe(scene.plait, '/metrics')
        assert.equal(metric(metrics.body, 'plait_storage_ready'), 0)
        assert.equal(metric(metrics.body, 'plait_storage_failures_total'), 1)
        assert.ok(metric(metrics.body, 'plait_storage_recovery_attempts_failed_total') >= 1)

        const freed = Date.now()
        removeFiller(scene.filler)
        await eventually(async () => (await probe(scene.plait, '/readyz')).status === 200, 'ready again')
        const recoveredMs = Date.now() - freed
        const attempts = scene.writerCloses.filter((c) => c.at > outageStart).length
        const readyAt = Date.now()
        await synced(writer, observer, bystander)
        t.diagnostic(`${scene.seen.size} edits relayed before the disk filled`)
        t.diagnostic(`ready ${recoveredMs} ms after the space was freed`)
        t.diagnostic(
          `writer: ${attempts} refused reconnects in the ${freed - outageStart} ms the disk was full; ` +
            `back in sync ${Date.now() - readyAt} ms after ready (its own backoff)`,
        )
        // The writer resent what the server lacked; then more edits after recovery.
        await waitFor(() => observer.text.toString() === writer.text.toString(), 'the resent edits to arrive')
        for (let i = 0; i < EDITS_AFTER_RECOVERY; i++) {
          writer.text.insert(writer.text.length, `<r${i}>${'y'.repeat(EDIT_BYTES)}`)
          await waitFor(() => scene.seen.has(`<r${i}>`), `edit ${i} after recovery to be relayed`)
        }
        const after = await probe(scene.plait, '/metrics')
        assert.equal(metric(after.body, 'plait_storage_recoveries_total'), 1)
        const expected = observer.text.toString()
        const seen = new Set(scene.seen)

        // Nobody is left who could resend anything: what follows comes from the disk alone.
        for (const client of scene.clients) client.destroy()
        scene.clients = []
        if (restart === 'SIGTERM') {
          const exit = await scene.plait.stop()
          assert.equal(exit?.code, 0, `a clean stop after recovery exits 0:\n${scene.plait.output}`)
        } else {
          await scene.plait.crash()
        }
        scene.plait = new PlaitProcess(scene.plait.port, scene.flags, scene.dataDir)
        await scene.plait.start()
        assert.ok(seen.has(`<r${EDITS_AFTER_RECOVERY - 1}>`))
        await assertKept(scene.plait, seen, expected)
        const other = connectProvider(scene.plait.wsUrl, 'other')
        scene.clients.push(other)
        await synced(other)
        assert.equal(other.text.toString(), 'a room that never wrote during the outage')
      } finally {
        await tearDown(scene)
      }
    })
  }

  test('SIGTERM while the disk is full exits non-zero and names what was not written', async () => {
    const scene = await setUp()
    try {
      await start(scene)
      await fillUntilFailing(scene)
      assert.equal((await probe(scene.plait, '/readyz')).status, 503)
      const exit = await scene.plait.stop()
      const output = scene.plait.output
      assert.equal(exit?.code, 1, `exit 1 after a failed final write:\n${output}`)
      assert.match(output, /plait: storage failed \(.*No space left on device.*\)/)
      assert.match(output, /not written: [1-9]\d* updates? in 1 room: "notes" \([1-9]\d*\)/)
      // What the observer saw was on disk before anyone saw it: still there once space is freed.
      const expected = scene.observer.text.toString()
      const seen = new Set(scene.seen)
      for (const client of scene.clients) client.destroy()
      scene.clients = []
      removeFiller(scene.filler)
      scene.plait = new PlaitProcess(scene.plait.port, [], scene.dataDir)
      await scene.plait.start()
      await assertKept(scene.plait, seen, expected)
    } finally {
      await tearDown(scene)
    }
  })
})
