import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import * as Y from 'yjs'
import { ConfigError, loadConfig } from '../server/cli/config.js'
import { parseRoomName } from '../server/protocol/room-name.js'
import { connectProvider, RawClient, synced, upgradeStatus, waitFor } from './helpers/clients.js'
import {
  freePort,
  removeDir,
  runPlait,
  shippedServer,
  startServer,
  type TestServer,
  tempDir,
} from './helpers/server.js'

describe('HTTP on the same port', () => {
  let s: TestServer
  before(async () => {
    s = await startServer()
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('/healthz and /readyz answer', async () => {
    const health = await fetch(`${s.http}/healthz`)
    assert.equal(health.status, 200)
    assert.deepEqual(await health.json(), { status: 'ok' })
    const ready = await fetch(`${s.http}/readyz`)
    assert.equal(ready.status, 200)
  })

  test('probes answer HEAD and queries like GET; other methods and paths reach the app', async () => {
    const head = await fetch(`${s.http}/healthz`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-type'), 'application/json')
    assert.equal(await head.text(), '')
    const queried = await fetch(`${s.http}/readyz?verbose=1`)
    assert.deepEqual(await queried.json(), { status: 'ready' })
    // The Hono side answers what the probes do not, also when several first requests arrive at once.
    const answers = await Promise.all([
      fetch(`${s.http}/healthz`, { method: 'POST' }),
      fetch(`${s.http}/healthz/`),
      fetch(`${s.http}/api/info`),
    ])
    assert.deepEqual(
      answers.map((a) => a.status),
      [404, 404, 200],
    )
    assert.deepEqual(await answers[0].json(), { error: 'not found', path: '/healthz' })
    // The app answers the probes the same way for an embedder that mounts it elsewhere.
    const viaApp = await s.server.app.request('/healthz')
    assert.equal(viaApp.headers.get('content-type'), 'application/json')
    assert.deepEqual(await viaApp.json(), { status: 'ok' })
  })

  test('/metrics counts sockets, rooms, frames and persisted updates in Prometheus text', async () => {
    const client = connectProvider(s.url, 'metered')
    await synced(client)
    client.text.insert(0, 'count me')
    await new Promise((r) => setTimeout(r, 100))
    const text = await (await fetch(`${s.http}/metrics`)).text()
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
    assert.equal(value('plait_open_sockets'), 1)
    assert.equal(value('plait_loaded_rooms'), 1)
    assert.ok(value('plait_frames_in_total') >= 2)
    assert.ok(value('plait_updates_persisted_total') >= 1)
    assert.match(text, /plait_persist_batch_seconds_bucket\{le="\+Inf"\} \d+/)
    assert.ok(value('plait_relay_seconds_count') >= 1, 'the broadcast of the edit was timed')
    client.destroy()
    await new Promise((r) => setTimeout(r, 100))
    const later = await (await fetch(`${s.http}/metrics`)).text()
    assert.match(later, /plait_socket_closes_total\{code="\d+"\} 1/)
  })

  test('/api/info says whether auth is on', async () => {
    const info = await (await fetch(`${s.http}/api/info`)).json()
    assert.equal(info.auth, 'open')
  })

  test('the document API lists rooms and exports a document as one Yjs update', async () => {
    const client = connectProvider(s.url, 'team/api doc')
    await synced(client)
    const persisted = s.server.metrics.updatesPersisted
    client.text.insert(0, 'exported')
    const name = encodeURIComponent('team/api doc')
    await waitFor(() => s.server.metrics.updatesPersisted > persisted, 'the edit to be stored')
    const list = await (await fetch(`${s.http}/api/rooms`)).json()
    assert.ok(list.rooms.includes('team/api doc'))
    assert.ok(list.rooms.length >= 2, 'earlier tests stored rooms too')
    const first = await (await fetch(`${s.http}/api/rooms?limit=1`)).json()
    assert.deepEqual(first.rooms, [list.rooms[0]])
    const second = await (
      await fetch(`${s.http}/api/rooms?limit=1&after=${encodeURIComponent(first.next)}`)
    ).json()
    assert.deepEqual(second.rooms, [list.rooms[1]])
    assert.equal((await fetch(`${s.http}/api/rooms?limit=0`)).status, 400)
    const status = await (await fetch(`${s.http}/api/rooms/${name}`)).json()
    assert.deepEqual(status, { room: 'team/api doc', exists: true, loaded: true, clients: 1 })
    const state = await fetch(`${s.http}/api/rooms/${name}/state`)
    assert.equal(state.headers.get('content-type'), 'application/octet-stream')
    const doc = new Y.Doc()
    Y.applyUpdate(doc, new Uint8Array(await state.arrayBuffer()))
    assert.equal(doc.getText('t').toString(), 'exported')
    assert.equal((await fetch(`${s.http}/api/rooms/nobody-wrote-here/state`)).status, 404)
    assert.equal((await fetch(`${s.http}/api/rooms/${encodeURIComponent('a\nb')}/state`)).status, 400)
    client.destroy()
  })

  test('a plain GET to a room path is not an upgrade and gets 404', async () => {
    const response = await fetch(`${s.http}/some-room`)
    assert.equal(response.status, 404)
  })

  test('bad room names are refused with HTTP 400 before a socket exists', async () => {
    assert.equal(await upgradeStatus(s.port, `/${'x'.repeat(257)}`), 400)
    assert.equal(await upgradeStatus(s.port, '/bad%00name'), 400)
    assert.equal(await upgradeStatus(s.port, '/bad%E0%A4%A'), 400)
    assert.equal(
      await upgradeStatus(s.port, '/'),
      101,
      'no room: the Hocuspocus framing (hocuspocus.test.ts)',
    )
    assert.equal(
      await upgradeStatus(s.port, `/${encodeURIComponent('é'.repeat(128))}`),
      101,
      '256 bytes is allowed',
    )
    assert.equal(
      await upgradeStatus(s.port, `/${encodeURIComponent('é'.repeat(128))}x`),
      400,
      '257 bytes is not',
    )
  })

  test('the query string is not part of the room name', async () => {
    const raw = new RawClient(`${s.url}/q-room?foo=bar`)
    await raw.opened
    await new Promise((r) => setTimeout(r, 50))
    assert.ok(s.server.registry.get('q-room'))
    raw.close()
  })
})

describe('a path prefix', () => {
  test('puts rooms under it and refuses upgrades outside it', async () => {
    const s = await startServer({ pathPrefix: '/collab' })
    try {
      const a = connectProvider(`${s.url}/collab`, 'doc')
      const b = connectProvider(`${s.url}/collab`, 'doc')
      await synced(a, b)
      a.text.insert(0, 'prefixed')
      await waitFor(() => b.text.toString() === 'prefixed', 'the edit to cross')
      assert.ok(s.server.registry.get('doc'), 'the room name excludes the prefix')
      assert.equal(await upgradeStatus(s.port, '/doc'), 400)
      a.destroy()
      b.destroy()
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})

describe('room names', () => {
  test('are the percent-decoded path after the prefix', () => {
    assert.deepEqual(parseRoomName('/team/notes%202026?x=1', ''), {
      ok: true,
      room: 'team/notes 2026',
      query: 'x=1',
    })
    assert.deepEqual(parseRoomName('/collab/a', '/collab'), { ok: true, room: 'a', query: '' })
    assert.equal(parseRoomName('/other/a', '/collab').ok, false)
    assert.equal(parseRoomName('/a%0Ab', '').ok, false)
  })
})

describe('configuration', () => {
  test('flags win over environment variables, and sizes and durations take units', () => {
    const config = loadConfig(['--port', '4000', '--max-frame', '2mib', '--room-idle', '30s'], {
      PORT: '5000',
      DATA_DIR: '/tmp/x',
      HOST: '0.0.0.0',
    })
    assert.ok(config !== 'help')
    assert.equal(config.port, 4000)
    assert.equal(config.dataDir, '/tmp/x')
    assert.equal(config.host, '0.0.0.0')
    assert.equal(
      config.maxDocumentBytes,
      2 * 1024 * 1024,
      'the former name of --max-document-size still works',
    )
    assert.equal(config.roomIdleMs, 30_000)
    const renamed = loadConfig(['--max-document-size', '3mib'], { MAX_FRAME: '1mib' })
    assert.ok(renamed !== 'help')
    assert.equal(renamed.maxDocumentBytes, 3 * 1024 * 1024)
  })

  test('bad values get a sentence that names the option', () => {
    assert.throws(
      () => loadConfig(['--port', 'abc'], {}),
      (e: Error) => e instanceof ConfigError && /--port/.test(e.message),
    )
    assert.throws(() => loadConfig(['--max-frame', '10 parsecs'], {}), /--max-frame/)
    assert.throws(() => loadConfig(['--frobnicate'], {}), /--help/)
    assert.throws(
      () => loadConfig([], { ROOM_FRAMES_PER_SECOND: '0' }),
      /--room-frames-per-second must be greater than 0/,
    )
  })

  test('--help lists every option with its default', () => {
    const result = runPlait(['--help'])
    assert.equal(result.status, 0)
    for (const flag of [
      '--port',
      '--host',
      '--data',
      '--log-level',
      '--max-document-size',
      '--max-frame',
      '--message-burst',
      '--max-buffered',
      '--room-idle',
    ]) {
      assert.ok(result.stdout.includes(flag), `--help mentions ${flag}`)
    }
    assert.match(result.stdout, /1234/)
  })

  test('the bundled server npm start runs serves documents and imports no CommonJS package via ESM', async () => {
    // Node starts its WebAssembly CommonJS export lexer on the first ESM import of a CommonJS module and
    // keeps it for the life of the process (idle RSS 75 -> 69 MB when removed).
    const report =
      'data:text/javascript,process.on("exit",()=>console.log("lexer:"+process.moduleLoadList.some(m=>m.includes("cjs-module-lexer"))))'
    const port = await freePort()
    const dataDir = tempDir()
    const child = spawn(
      process.execPath,
      ['--import', report, shippedServer(), '--port', String(port), '--host', '127.0.0.1', '--data', dataDir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const a = connectProvider(`ws://127.0.0.1:${port}`, 'bundled')
    const b = connectProvider(`ws://127.0.0.1:${port}`, 'bundled')
    try {
      await synced(a, b)
      a.text.insert(0, 'from the bundle')
      await waitFor(() => b.text.toString() === 'from the bundle', 'the edit to reach b')
    } finally {
      a.destroy()
      b.destroy()
      child.kill('SIGTERM')
      assert.equal(await exited, 0, 'a clean stop')
      removeDir(dataDir)
    }
    assert.match(stdout, /lexer:false/)
  })
})

describe('start-up warm-up', () => {
  // listen() warms Yjs's code paths and the store's first read on throwaway data, so the first real client
  // does not pay for compiling them. It must work behind a prefix and with auth on, and leave no trace a
  // user could see: no socket or room in the metrics, no room stored.
  for (const [name, options] of [
    ['open', {}],
    ['behind a path prefix', { pathPrefix: '/collab' }],
    ['with auth on', { auth: { secret: 'warm-up-test-secret-of-enough-length' } }],
  ] as const) {
    test(name, async () => {
      const s = await startServer(options)
      try {
        const messages = s.logs.lines.map((l) => l.msg)
        assert.ok(messages.includes('warmed up'), `log: ${messages.join(' | ')}`)
        assert.ok(!messages.includes('warm-up skipped'))
        const metrics = await (await fetch(`${s.http}/metrics`)).text()
        assert.match(metrics, /^plait_sockets_opened_total 0$/m)
        assert.match(metrics, /^plait_loaded_rooms 0$/m)
        assert.match(metrics, /^plait_open_sockets 0$/m)
        assert.deepEqual(await s.server.store.listRooms({ limit: 10 }), [])
      } finally {
        await s.stop()
        removeDir(s.dataDir)
      }
    })
  }
})
