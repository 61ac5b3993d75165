// `plait import-y-leveldb`: a directory written here by the real y-leveldb package (what y-websocket's
// YPERSISTENCE writes), imported by the bundled command, then served by a real plait to stock providers.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { LeveldbPersistence } from 'y-leveldb'
import * as Y from 'yjs'
import { LevelStore } from '../persistence/level/level-store.js'
import { connectProvider, roomState, synced, waitForAsync } from './helpers/clients.js'
import { removeDir, runPlait, startServer, tempDir } from './helpers/server.js'

/** Writes each document to a new y-leveldb directory, update by update, as y-websocket's server does. */
async function writeSource(
  docs: Map<string, (doc: Y.Doc) => void>,
): Promise<{ dir: string; sources: Map<string, Y.Doc> }> {
  const dir = tempDir('plait-y-leveldb-')
  const persistence = new LeveldbPersistence(dir)
  const sources = new Map<string, Y.Doc>()
  const stored: Promise<number>[] = []
  for (const [name, edit] of docs) {
    const doc = new Y.Doc()
    doc.on('update', (update: Uint8Array) => stored.push(persistence.storeUpdate(name, update)))
    edit(doc)
    sources.set(name, doc)
  }
  await Promise.all(stored)
  await persistence.destroy()
  return { dir, sources }
}

/** The text and map of a document, read back from its encoded state. */
function contentOf(doc: Y.Doc): { text: string; map: unknown } {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  return { text: copy.getText('t').toString(), map: copy.getMap('m').toJSON() }
}

/** What a stock provider syncs from the server for this room. */
async function served(url: string, room: string): Promise<Y.Doc> {
  const client = connectProvider(url, room)
  try {
    await synced(client)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(client.doc))
    return doc
  } finally {
    client.destroy()
  }
}

const typing = (count: number) => (doc: Y.Doc) => {
  for (let i = 0; i < count; i++) doc.getText('t').insert(i, String.fromCharCode(97 + (i % 26)))
}

describe('plait import-y-leveldb', () => {
  test('every document arrives as it was: a unicode name, a large one, one of many small updates', async () => {
    const large = Array.from({ length: 40_000 }, (_, i) => `line ${i} of a long document\n`).join('')
    const { dir: src, sources } = await writeSource(
      new Map<string, (doc: Y.Doc) => void>([
        ['notes', (doc) => doc.getText('t').insert(0, 'hello from y-websocket')],
        [
          'team/Notizen äöü 😀 日本語',
          (doc) => {
            doc.getText('t').insert(0, 'grüße 🌍')
            doc.getMap('m').set('author', 'zoë')
            doc.getMap('m').set('tags', ['a', 'ü'])
          },
        ],
        [
          'large',
          (doc) => {
            doc.getText('t').insert(0, large)
            for (let i = 0; i < 2000; i++) doc.getMap('m').set(`k${i}`, i)
          },
        ],
        ['many-small', typing(1500)],
        ['bad\u0007name', (doc) => doc.getText('t').insert(0, 'a bell in the name')],
      ]),
    )
    const dataDir = tempDir()
    try {
      const run = runPlait(['import-y-leveldb', src, '--data', dataDir])
      assert.equal(run.status, 0, run.stderr)
      assert.match(run.stdout, /imported 4 document\(s\) \(0 merged into existing rooms\), skipped 1, /)
      assert.match(
        run.stderr,
        /skipping 1 document\(s\) whose names plait does not allow as rooms: "bad\\u0007name"/,
      )
      assert.doesNotMatch(run.stderr, /Yjs was already imported/)
      const s = await startServer({}, dataDir)
      try {
        // Listed before any provider opens a room: they are in storage, not made by a connection.
        const listed = (await (await fetch(`${s.http}/api/rooms`)).json()) as { rooms: string[] }
        assert.deepEqual(listed.rooms.sort(), ['large', 'many-small', 'notes', 'team/Notizen äöü 😀 日本語'])
        for (const [name, source] of sources) {
          if (name.includes('\u0007')) continue
          const doc = await served(s.url, name)
          assert.deepEqual(contentOf(doc), contentOf(source), name)
          assert.deepEqual(Y.encodeStateVector(doc), Y.encodeStateVector(source), name)
        }
        assert.equal(contentOf(await served(s.url, 'large')).text.length, large.length)
        assert.equal(contentOf(await served(s.url, 'many-small')).text.length, 1500)
      } finally {
        await s.stop()
      }
    } finally {
      removeDir(src)
      removeDir(dataDir)
    }
  })

  test('rooms that exist are refused without --merge, and merged with it', async () => {
    const dataDir = tempDir()
    const s = await startServer({}, dataDir)
    const plaitSide = connectProvider(s.url, 'shared')
    await synced(plaitSide)
    plaitSide.text.insert(0, 'typed in plait. ')
    await waitForAsync(
      async () => (await roomState(s.http, 'shared'))?.getText('t').toString() === 'typed in plait. ',
      'the server to have the edit',
    )
    plaitSide.destroy()
    await s.stop()
    const { dir: src, sources } = await writeSource(
      new Map<string, (doc: Y.Doc) => void>([
        ['shared', (doc) => doc.getText('t').insert(0, 'typed in y-websocket. ')],
        ['fresh', (doc) => doc.getText('t').insert(0, 'only in y-websocket')],
      ]),
    )
    try {
      const refused = runPlait(['import-y-leveldb', src, '--data', dataDir])
      assert.equal(refused.status, 1, refused.stderr)
      assert.match(refused.stderr, /1 room\(s\) already exist in .*: "shared"\. Nothing was imported\./)
      assert.match(refused.stderr, /--merge/)
      const store = new LevelStore(dataDir)
      await store.open()
      assert.equal(await store.hasRoom('fresh'), false, 'nothing of a refused import is written')
      await store.close()

      const merged = runPlait(['import-y-leveldb', src, '--data', dataDir, '--merge'])
      assert.equal(merged.status, 0, merged.stderr)
      assert.match(merged.stdout, /imported 2 document\(s\) \(1 merged into existing rooms\)/)
      const again = await startServer({}, dataDir)
      try {
        const text = contentOf(await served(again.url, 'shared')).text
        assert.ok(text.includes('typed in plait. ') && text.includes('typed in y-websocket. '), text)
        assert.equal(text.length, 'typed in plait. typed in y-websocket. '.length)
        assert.deepEqual(
          contentOf(await served(again.url, 'fresh')),
          contentOf(sources.get('fresh') as Y.Doc),
        )
      } finally {
        await again.stop()
      }
    } finally {
      removeDir(src)
      removeDir(dataDir)
    }
  })

  test('a source in use, a plait directory in use, and a directory that is no y-leveldb are refused', async () => {
    const { dir: src } = await writeSource(new Map([['a', typing(3)]]))
    const dataDir = tempDir()
    const empty = tempDir()
    // A y-websocket server holds its directory open (LevelDB's LOCK file) for as long as it runs.
    const running = new LeveldbPersistence(src)
    await running.getAllDocNames()
    try {
      const locked = runPlait(['import-y-leveldb', src, '--data', dataDir])
      assert.equal(locked.status, 1)
      assert.match(
        locked.stderr,
        /is in use by another process \(a running y-websocket server\?\): stop it first/,
      )
    } finally {
      await running.destroy()
    }
    const s = await startServer({}, dataDir)
    try {
      const busy = runPlait(['import-y-leveldb', src, '--data', dataDir])
      assert.equal(busy.status, 1)
      assert.match(busy.stderr, /in use by another plait process/)
    } finally {
      await s.stop()
    }
    try {
      const foreign = runPlait(['import-y-leveldb', empty, '--data', dataDir])
      assert.equal(foreign.status, 1)
      assert.match(foreign.stderr, /is not a LevelDB directory/)
      assert.deepEqual(readdirSync(empty), [], 'no database is created in a mistyped source')
      const missing = runPlait(['import-y-leveldb', join(empty, 'nope'), '--data', dataDir])
      assert.equal(missing.status, 1)
      assert.match(missing.stderr, /is not a directory/)
    } finally {
      removeDir(src)
      removeDir(dataDir)
      removeDir(empty)
    }
  })

  test('a document Yjs cannot read fails the run after the others are in; held-back updates are left out', async () => {
    const { dir: src } = await writeSource(new Map([['good', typing(5)]]))
    const persistence = new LeveldbPersistence(src)
    // y-leveldb stores bytes as they come once a document exists: a torn update reaches the log.
    const broken = new Y.Doc()
    broken.getText('t').insert(0, 'fine')
    await persistence.storeUpdate('broken', Y.encodeStateAsUpdate(broken))
    await persistence.storeUpdate('broken', new Uint8Array([255, 255, 255, 255, 255]))
    // An update whose predecessor was never stored: Yjs holds it back, so no client ever saw it.
    const orphan = new Y.Doc()
    orphan.getText('t').insert(0, 'first ')
    const before = Y.encodeStateVector(orphan)
    orphan.getText('t').insert(6, 'second')
    await persistence.storeUpdate('orphan', Y.encodeStateAsUpdate(orphan, before))
    await persistence.destroy()
    const dataDir = tempDir()
    try {
      const run = runPlait(['import-y-leveldb', src, '--data', dataDir])
      assert.equal(run.status, 1, run.stderr)
      assert.match(run.stderr, /cannot read document "broken": /)
      assert.match(run.stderr, /1 document\(s\) could not be read and were not imported: "broken"/)
      assert.match(run.stderr, /1 document\(s\) held updates whose dependencies were never stored/)
      assert.match(run.stdout, /imported 2 document\(s\)/)
      const s = await startServer({}, dataDir)
      try {
        assert.equal(contentOf(await served(s.url, 'good')).text, 'abcde')
        assert.equal(contentOf(await served(s.url, 'orphan')).text, '')
        const listed = (await (await fetch(`${s.http}/api/rooms`)).json()) as { rooms: string[] }
        assert.deepEqual(listed.rooms, ['good', 'orphan'])
      } finally {
        await s.stop()
      }
    } finally {
      removeDir(src)
      removeDir(dataDir)
    }
  })

  test('usage: --help, the main help, and wrong arguments exit with 2', () => {
    const help = runPlait(['import-y-leveldb', '--help'])
    assert.equal(help.status, 0)
    assert.match(help.stdout, /Usage: plait import-y-leveldb SRC --data DIR \[--merge\]/)
    assert.match(runPlait(['--help']).stdout, /plait import-y-leveldb SRC --data DIR/)
    const noData = runPlait(['import-y-leveldb', '/tmp'])
    assert.equal(noData.status, 2)
    assert.match(noData.stderr, /--data DIR is required/)
    assert.equal(runPlait(['import-y-leveldb', '--data', '/tmp/x']).status, 2)
    assert.equal(runPlait(['import-y-leveldb', 'a', 'b', '--data', '/tmp/x']).status, 2)
    assert.equal(runPlait(['import-y-leveldb', 'a', '--data', 'x', '--nope']).status, 2)
    const same = runPlait(['import-y-leveldb', '/tmp', '--data', '/tmp/'])
    assert.equal(same.status, 2)
    assert.match(same.stderr, /the same directory/)
  })

  test('a long run prints a progress line every 1,000 documents and a summary', async (t) => {
    const count = 2500
    const docs = new Map<string, (doc: Y.Doc) => void>()
    for (let i = 0; i < count; i++) docs.set(`doc-${i}`, (doc) => doc.getText('t').insert(0, `document ${i}`))
    const { dir: src, sources } = await writeSource(docs)
    const dataDir = tempDir()
    try {
      const started = Date.now()
      const run = runPlait(['import-y-leveldb', src, '--data', dataDir])
      const ms = Date.now() - started
      assert.equal(run.status, 0, run.stderr)
      const progress = run.stderr
        .split('\n')
        .filter((line) => /^imported [\d,]+ of 2,500 documents/.test(line))
      assert.ok(progress.length >= 2, run.stderr)
      assert.match(
        run.stdout,
        /imported 2,500 document\(s\) \(0 merged into existing rooms\), skipped 0, [\d.]+ MiB in [\d.]+ s/,
      )
      t.diagnostic(
        `${count} documents in ${ms} ms including the process start: ${Math.round((count * 1000) / ms)}/s`,
      )
      const s = await startServer({}, dataDir)
      try {
        for (const name of ['doc-0', 'doc-1234', 'doc-2499']) {
          assert.deepEqual(contentOf(await served(s.url, name)), contentOf(sources.get(name) as Y.Doc))
        }
      } finally {
        await s.stop()
      }
    } finally {
      removeDir(src)
      removeDir(dataDir)
    }
  })
})
