// plait export and plait import on real LevelDB directories: every room (unicode and prototype-key
// names included) and its versions go into one file and come back with byte-identical document state;
// an import refuses a directory a server is using and skips rooms that already exist unless --overwrite.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import * as Y from 'yjs'
import { LevelStore } from '../persistence/level/level-store.js'
import { StoreError } from '../persistence/store.js'
import { exportStore, roomState } from '../server/backup/export.js'
import { importInto } from '../server/backup/import.js'
import { runBackupCommand } from '../server/cli/backup-command.js'
import { connectProvider, synced, waitFor } from './helpers/clients.js'
import { removeDir, runPlait, startServer, tempDir } from './helpers/server.js'

const ROOMS = ['plain', 'team/ünïcode 📝', '__proto__', 'constructor', 'n\ue000']

/** A data directory with ROOMS edited by a live client (some compacted), and versions of two of them. */
async function populated(): Promise<string> {
  const s = await startServer({ tuning: { compactEntries: 3 } })
  try {
    for (const [i, room] of ROOMS.entries()) {
      const client = connectProvider(s.url, room)
      try {
        await synced(client)
        for (let j = 0; j <= i; j++) {
          client.text.insert(client.text.length, `${room}:${j};`)
          const length = client.text.length
          await waitFor(() => s.server.registry.get(room)?.doc.getText('t').length === length, 'the edit')
        }
        client.doc.getMap('m').set('i', i)
        await waitFor(() => s.server.registry.get(room)?.doc.getMap('m').get('i') === i, 'the map edit')
        if (i % 2 === 1) {
          await s.server.versions.create(room, { name: `v of ${room}`, createdBy: 'alice' })
          client.text.delete(0, 1)
          await waitFor(
            () => s.server.registry.get(room)?.doc.getText('t').length === client.text.length,
            'the delete',
          )
          await s.server.versions.create(room, { name: 'second', createdBy: null })
        }
      } finally {
        client.destroy()
      }
    }
  } finally {
    await s.stop()
  }
  return s.dataDir
}

async function contents(dir: string) {
  const store = new LevelStore(dir)
  await store.open()
  try {
    // A Map: a room named __proto__ would set a plain object's prototype instead of a key.
    const rooms = new Map<string, { state: string; versions: unknown[] }>()
    for (const room of await store.listRooms()) {
      const versions = []
      for (const info of await store.listVersions(room)) {
        const version = await store.loadVersion(room, info.id)
        versions.push({ ...info, snapshot: Buffer.from(version?.snapshot ?? []).toString('hex') })
      }
      rooms.set(room, { state: Buffer.from(await roomState(store, room)).toString('hex'), versions })
    }
    return rooms
  } finally {
    await store.close()
  }
}

const quiet = () => {}

describe('plait export and plait import', () => {
  test('a round trip gives every room byte-identical state and every version', async () => {
    const source = await populated()
    const target = tempDir()
    const file = join(tempDir(), 'backup.ndjson')
    try {
      const exported = await runBackupCommand('export', ['--data', source, '--out', file], quiet)
      assert.equal(exported, `exported ${ROOMS.length} rooms and 4 versions`)
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
      assert.deepEqual(lines[0].format, 'plait-backup')
      assert.equal(lines[0].version, 1)
      assert.deepEqual(lines.at(-1), { type: 'end', rooms: ROOMS.length, versions: 4 })
      const imported = await runBackupCommand('import', ['--data', target, file], quiet)
      assert.equal(imported, `imported ${ROOMS.length} rooms and 4 versions`)
      const before = await contents(source)
      assert.deepEqual([...before.keys()].sort(), [...ROOMS].sort())
      assert.deepEqual(await contents(target), before)
      // What the file holds is the state itself: a server on the imported directory hands out those bytes.
      const s = await startServer({}, target)
      try {
        for (const line of lines.filter((l) => l.type === 'room')) {
          const handle = await s.server.openDocument(line.room)
          try {
            assert.equal(
              Buffer.from(Y.encodeStateAsUpdate(handle.doc)).toString('base64'),
              line.state,
              line.room,
            )
          } finally {
            handle.release()
          }
        }
        const client = connectProvider(s.url, 'team/ünïcode 📝')
        try {
          await synced(client)
          assert.equal(client.text.toString(), 'eam/ünïcode 📝:0;team/ünïcode 📝:1;')
        } finally {
          client.destroy()
        }
      } finally {
        await s.stop()
      }
    } finally {
      removeDir(source)
      removeDir(target)
    }
  })

  test('an import skips rooms the directory has, or replaces them with --overwrite', async () => {
    const source = await populated()
    const file = join(tempDir(), 'backup.ndjson')
    try {
      await runBackupCommand('export', ['--data', source, '--out', file], quiet)
      const again = await runBackupCommand('import', ['--data', source, file], quiet)
      assert.equal(again, `imported 0 rooms and 0 versions, skipped ${ROOMS.length} existing rooms`)
      const replaced = await runBackupCommand('import', ['--data', source, file, '--overwrite'], quiet)
      assert.equal(replaced, `imported ${ROOMS.length} rooms and 4 versions`)
      const store = new LevelStore(source)
      await store.open()
      try {
        assert.equal(
          (await store.listVersions('constructor')).length,
          2,
          'the versions were replaced, not doubled',
        )
      } finally {
        await store.close()
      }
    } finally {
      removeDir(source)
    }
  })

  test('an import into a directory a server is using is refused, and so is a truncated file', async () => {
    const s = await startServer()
    const file = join(tempDir(), 'backup.ndjson')
    writeFileSync(file, '{"type":"header","format":"plait-backup","version":1,"exportedAt":"now"}\n')
    try {
      await assert.rejects(runBackupCommand('import', ['--data', s.dataDir, file], quiet), (error) => {
        assert.ok(error instanceof StoreError)
        assert.equal(error.code, 'locked')
        assert.match(error.message, /in use by another plait process/)
        return true
      })
    } finally {
      await s.stop()
    }
    try {
      await assert.rejects(runBackupCommand('import', ['--data', s.dataDir, file], quiet), /truncated/)
    } finally {
      removeDir(s.dataDir)
    }
  })

  test('long runs report progress lines as they go', async () => {
    const source = await populated()
    const target = tempDir()
    const file = join(tempDir(), 'backup.ndjson')
    const lines: string[] = []
    try {
      const store = new LevelStore(source)
      await store.open()
      try {
        await exportStore(store, file, (line) => lines.push(line), 0)
      } finally {
        await store.close()
      }
      const into = new LevelStore(target)
      await into.open()
      try {
        await importInto(into, file, { overwrite: false, progressEveryMs: 0 }, (line) => lines.push(line))
      } finally {
        await into.close()
      }
      assert.ok(
        lines.some((line) => /^exported [1-5] rooms and \d versions…$/.test(line)),
        lines.join('\n'),
      )
      assert.ok(
        lines.some((line) => /^imported [1-5] rooms and \d versions…$/.test(line)),
        lines.join('\n'),
      )
    } finally {
      removeDir(source)
      removeDir(target)
    }
  })

  test('the plait command runs both; a usage mistake exits 2', async () => {
    const source = await populated()
    const target = tempDir()
    const file = join(tempDir(), 'backup.ndjson')
    try {
      const exported = runPlait(['export', '--data', source, '--out', file])
      assert.equal(exported.status, 0, exported.stderr)
      assert.match(exported.stdout, /exported 5 rooms and 4 versions/)
      const imported = runPlait(['import', '--data', target, file])
      assert.equal(imported.status, 0, imported.stderr)
      assert.match(imported.stdout, /imported 5 rooms and 4 versions/)
      const usage = runPlait(['import', file])
      assert.equal(usage.status, 2)
      assert.match(usage.stderr, /--data <dir> \(or --redis and --database\) is required/)
    } finally {
      removeDir(source)
      removeDir(target)
    }
  })
})
