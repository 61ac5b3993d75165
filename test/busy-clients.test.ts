// Busy clients are slowed down, never cut off: stock providers that burst, scripts that import, big
// documents, and a flooding socket next to quiet neighbours, all with the default limits.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'
import * as Y from 'yjs'
import { encodeUpdate } from '../server/protocol/messages.js'
import { connectProvider, metric, RawClient, synced, updateOf, waitFor } from './helpers/clients.js'
import { freePort, PlaitProcess } from './helpers/plait-process.js'
import { removeDir, repoRoot, startServer } from './helpers/server.js'
import { readStored } from './helpers/stored.js'

const run = promisify(execFile)

/** Counts the closes a stock provider sees, so a test can say it was never cut off. */
function closesOf(provider: ReturnType<typeof connectProvider>['provider']): number[] {
  const codes: number[] = []
  provider.on('connection-close', (event) => {
    if (event !== null) codes.push(event.code)
  })
  return codes
}

describe('busy clients with the default limits', () => {
  test('5,000 edits in one go reach an observer, the writer is never closed, and all survive a SIGTERM restart', async () => {
    const server = new PlaitProcess(await freePort())
    await server.start()
    const writer = connectProvider(server.wsUrl, 'bulk')
    const observer = connectProvider(server.wsUrl, 'bulk')
    const writerCloses = closesOf(writer.provider)
    try {
      await synced(writer, observer)
      const list = writer.doc.getArray<number>('items')
      // One transaction each, as an editor splitting a long paste or an app replaying offline work sends them.
      for (let i = 0; i < 5000; i++) list.push([i])
      const seen = observer.doc.getArray<number>('items')
      await waitFor(() => seen.length === 5000, 'the observer to receive all 5,000 edits', 30_000)
      assert.deepEqual(writerCloses, [], 'the writer was never closed')
      writer.destroy()
      observer.destroy()
      const exit = await server.stop()
      assert.equal(exit?.code, 0)
      const { doc } = await readStored(server.dataDir, 'bulk')
      assert.equal(doc.getArray('items').length, 5000, 'all 5,000 are on disk after the restart')
    } finally {
      writer.destroy()
      observer.destroy()
      await server.dispose()
    }
  })

  test('a script writing 20,000 updates at 2,000/s over one socket and exiting has them all stored', async () => {
    const s = await startServer()
    try {
      await run(
        process.execPath,
        ['--import', 'tsx', join(repoRoot, 'test/fixtures/bulk-writer.ts'), s.url, 'import', '20000', '2000'],
        { cwd: repoRoot, timeout: 60_000 },
      )
      const reader = connectProvider(s.url, 'import')
      try {
        const items = reader.doc.getArray('items')
        await waitFor(() => items.length === 20_000, 'all 20,000 updates to be stored', 20_000)
      } finally {
        reader.destroy()
      }
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('500 quick edits followed by a SIGTERM are all on disk after the restart', async () => {
    const server = new PlaitProcess(await freePort())
    await server.start()
    const writer = connectProvider(server.wsUrl, 'quick')
    try {
      await synced(writer)
      // No resync may hide a loss: the provider stops at the server's close.
      writer.provider.on('connection-close', () => {
        writer.provider.shouldConnect = false
      })
      const list = writer.doc.getArray<number>('items')
      for (let i = 0; i < 500; i++) list.push([i])
      const exit = await server.stop()
      assert.equal(exit?.code, 0)
      const { doc } = await readStored(server.dataDir, 'quick')
      assert.equal(doc.getArray('items').length, 500)
    } finally {
      writer.destroy()
      await server.dispose()
    }
  })

  test('a 25 MiB document pushed through a room converges for the writer, an observer and a late joiner', async () => {
    const s = await startServer({ logLevel: 'warn' })
    const writer = connectProvider(s.url, 'big')
    const observer = connectProvider(s.url, 'big')
    const closes = [closesOf(writer.provider), closesOf(observer.provider)]
    try {
      await synced(writer, observer)
      const chunk = 'x'.repeat(100 * 1024)
      for (let i = 0; i < 256; i++) writer.text.insert(writer.text.length, chunk)
      const total = 256 * chunk.length
      await waitFor(() => observer.text.length === total, 'the observer to keep up', 60_000)
      const late = connectProvider(s.url, 'big')
      try {
        await synced(late)
        await waitFor(() => late.text.length === total, 'the late joiner to receive all 25 MiB', 60_000)
      } finally {
        late.destroy()
      }
      assert.deepEqual(closes, [[], []], 'nobody was closed')
    } finally {
      writer.destroy()
      observer.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a flooding socket is paused while its neighbours stay responsive and nothing it sent is lost', async () => {
    const rate = 1000
    const burst = 1000
    const s = await startServer({
      logLevel: 'warn',
      limits: { maxMessagesPerSecond: rate, messageBurst: burst },
    })
    const flooder = new RawClient(`${s.url}/flood`)
    const a = connectProvider(s.url, 'neighbour')
    const b = connectProvider(s.url, 'neighbour')
    try {
      await flooder.opened
      await synced(a, b)
      const doc = new Y.Doc()
      const sent = 6000
      const started = Date.now()
      for (let i = 0; i < sent; i++)
        flooder.send(encodeUpdate(updateOf(doc, () => doc.getText('t').insert(0, 'f'))))
      // The neighbours' edits cross the room while the flooder's frames wait in TCP.
      for (let i = 0; i < 5; i++) {
        a.text.insert(0, 'n')
        await waitFor(() => b.text.length === i + 1, "a neighbour's edit", 2000)
      }
      // Scraped before the budget is computed: a later read only counts more frames against more budget.
      const frames = await metric(s.http, 'plait_frames_in_total')
      const allowed = burst + (rate * (Date.now() - started)) / 1000
      assert.ok(
        frames < allowed + 2000,
        `the server read ${frames} frames; the budget allows ~${Math.round(allowed)}`,
      )
      assert.ok((await metric(s.http, 'plait_socket_pauses_total')) > 0)
      const reader = connectProvider(s.url, 'flood')
      try {
        await waitFor(() => reader.text.length === sent, 'every flooded edit to arrive in the end', 60_000)
      } finally {
        reader.destroy()
      }
      assert.equal(flooder.closeCode, null, 'the flooder was never closed')
      const metrics = await (await fetch(`${s.http}/metrics`)).text()
      assert.match(metrics, /plait_socket_paused_seconds_total [1-9]/)
    } finally {
      flooder.close()
      a.destroy()
      b.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})

describe('documents over the size limit', () => {
  test('a frame over --max-document-size is refused with 4413 and a reason, logged, counted, and not retried', async () => {
    const s = await startServer({ limits: { maxDocumentBytes: 256 * 1024 } })
    const writer = connectProvider(s.url, 'huge', { connect: false })
    const closes = closesOf(writer.provider)
    const terminal: { code: number; reason: string }[] = []
    writer.provider.on('closed', (event) => terminal.push(event))
    try {
      writer.text.insert(0, 'y'.repeat(512 * 1024))
      writer.provider.connect()
      await waitFor(() => terminal.length > 0, 'the provider to stop reconnecting')
      assert.equal(terminal[0].code, 4413)
      assert.match(
        terminal[0].reason,
        /^document too large: a frame of 0\.5 MiB, over the server's limit of 0\.3 MiB/,
      )
      const log = s.logs.lines.find((l) => l.msg === 'refused a frame over --max-document-size')
      assert.equal(log?.room, 'huge')
      assert.equal(log?.limit, 256 * 1024)
      assert.ok(Number(log?.bytes) > 512 * 1024)
      const metrics = await (await fetch(`${s.http}/metrics`)).text()
      assert.match(metrics, /plait_frames_too_large_total 1\n/)
      assert.deepEqual(closes, [4413], 'one close, no reconnect loop')
    } finally {
      writer.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('edits that would grow a document past the limit are refused with 4413; the room keeps its content', async () => {
    const s = await startServer({ limits: { maxDocumentBytes: 64 * 1024 } })
    const writer = connectProvider(s.url, 'full')
    const reader = connectProvider(s.url, 'full')
    try {
      await synced(writer, reader)
      const closes = closesOf(writer.provider)
      for (let i = 0; i < 20; i++) writer.text.insert(writer.text.length, 'z'.repeat(8 * 1024))
      await waitFor(() => closes.includes(4413), 'the writer to be refused')
      const kept = reader.text.length
      assert.ok(kept > 0 && kept <= 64 * 1024, `the reader holds what fit (${kept} characters)`)
    } finally {
      writer.destroy()
      reader.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})
