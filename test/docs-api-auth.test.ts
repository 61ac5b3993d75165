// The document API with JWT auth and an operator token: every route refuses a missing, bad or
// other-room token; POST needs write access; DELETE needs the operator token; the list names only
// readable rooms within the prefix.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as Y from 'yjs'
import type { Access } from '../server/auth/authenticators.js'
import { mintToken } from '../server/cli/token-command.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'
import { SseClient } from './helpers/sse.js'

const SECRET = 'docs-api-auth-test-secret-long-enough'
const ADMIN = 'operator-token-for-the-docs-api-tests'

const token = (docs: Record<string, Access>, secret = SECRET) =>
  mintToken({ secret, sub: 'alice', docs, ttlSeconds: 600 })

function update(text: string): Uint8Array<ArrayBuffer> {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc) as Uint8Array<ArrayBuffer>
}

type Call = (s: TestServer, auth: string | undefined) => Promise<{ status: number; body: string }>

const headers = (auth: string | undefined, extra: Record<string, string> = {}) =>
  auth === undefined ? extra : { ...extra, Authorization: `Bearer ${auth}` }

async function answer(response: Response) {
  return { status: response.status, body: await response.text() }
}

/** Every route on room team/doc, called with one Authorization. */
const routes: Record<string, Call> = {
  'GET /api/docs/:room': async (s, auth) =>
    answer(await fetch(`${s.http}/api/docs/team%2Fdoc`, { headers: headers(auth) })),
  'GET /api/docs/:room?format=json': async (s, auth) =>
    answer(await fetch(`${s.http}/api/docs/team%2Fdoc?format=json`, { headers: headers(auth) })),
  'POST /api/docs/:room/updates': async (s, auth) =>
    answer(
      await fetch(`${s.http}/api/docs/team%2Fdoc/updates`, {
        method: 'POST',
        body: update('more'),
        headers: headers(auth, { 'Content-Type': 'application/octet-stream' }),
      }),
    ),
  'GET /api/docs/:room/events': async (s, auth) => {
    const feed = new SseClient(`${s.http}/api/docs/team%2Fdoc/events`, headers(auth))
    const status = await feed.opened
    await new Promise((r) => setTimeout(r, 50))
    feed.close()
    return { status, body: feed.text }
  },
  'DELETE /api/docs/:room': async (s, auth) =>
    answer(await fetch(`${s.http}/api/docs/team%2Fdoc`, { method: 'DELETE', headers: headers(auth) })),
  'POST /api/docs/:room/versions': async (s, auth) =>
    answer(
      await fetch(`${s.http}/api/docs/team%2Fdoc/versions`, {
        method: 'POST',
        body: JSON.stringify({ name: 'v' }),
        headers: headers(auth, { 'Content-Type': 'application/json' }),
      }),
    ),
  'GET /api/docs/:room/versions': async (s, auth) =>
    answer(await fetch(`${s.http}/api/docs/team%2Fdoc/versions`, { headers: headers(auth) })),
  'GET /api/docs/:room/versions/:id': async (s, auth) =>
    answer(await fetch(`${s.http}/api/docs/team%2Fdoc/versions/none`, { headers: headers(auth) })),
  'POST /api/docs/:room/versions/:id/restore': async (s, auth) =>
    answer(
      await fetch(`${s.http}/api/docs/team%2Fdoc/versions/none/restore`, {
        method: 'POST',
        headers: headers(auth),
      }),
    ),
}

describe('the document API with JWT auth', () => {
  let s: TestServer
  before(async () => {
    s = await startServer({ auth: { secret: SECRET, adminToken: ADMIN } })
    for (const room of ['team/doc', 'team/other', 'team/plan', 'elsewhere/x']) {
      const response = await fetch(`${s.http}/api/docs/${encodeURIComponent(room)}/updates`, {
        method: 'POST',
        body: update(room),
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/octet-stream' },
      })
      assert.equal(response.status, 200, `the operator writes ${room}`)
    }
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('no token and a bad token get 401 on every route, with a JSON error', async () => {
    const bad = [undefined, 'not-a-jwt', await token({ '*': 'write' }, 'another-secret-another-secret-xx')]
    for (const [name, call] of Object.entries(routes)) {
      for (const auth of bad) {
        const { status, body } = await call(s, auth)
        assert.equal(status, 401, `${name} with ${auth ?? 'no token'}`)
        assert.equal(JSON.parse(body).error, 'unauthorized')
      }
    }
    assert.equal((await fetch(`${s.http}/api/docs`)).status, 401, 'the list too')
  })

  test('a token for another room gets 403 on every room route', async () => {
    const other = await token({ 'elsewhere/*': 'write' })
    for (const [name, call] of Object.entries(routes)) {
      const { status, body } = await call(s, other)
      assert.equal(status, 403, name)
      assert.equal(JSON.parse(body).error, 'forbidden')
    }
  })

  test('a read-only token reads and follows the feed but cannot POST or DELETE', async () => {
    const reader = await token({ 'team/*': 'read' })
    assert.equal((await routes['GET /api/docs/:room'](s, reader)).status, 200)
    assert.equal((await routes['GET /api/docs/:room/events'](s, reader)).status, 200)
    const posted = await routes['POST /api/docs/:room/updates'](s, reader)
    assert.equal(posted.status, 403)
    assert.match(JSON.parse(posted.body).message, /read-only/)
    assert.equal((await routes['DELETE /api/docs/:room'](s, reader)).status, 403)
  })

  test('a write token may POST but not DELETE: that needs the operator token', async () => {
    const writer = await token({ 'team/*': 'write' })
    assert.equal((await routes['POST /api/docs/:room/updates'](s, writer)).status, 200)
    const refused = await routes['DELETE /api/docs/:room'](s, writer)
    assert.equal(refused.status, 403)
    assert.match(JSON.parse(refused.body).message, /operator token/)
    const deleted = await fetch(`${s.http}/api/docs/team%2Fplan`, {
      method: 'DELETE',
      headers: headers(ADMIN),
    })
    assert.equal(deleted.status, 204)
    assert.equal((await fetch(`${s.http}/api/docs/team%2Fplan`, { headers: headers(ADMIN) })).status, 404)
  })

  test('the list names only the rooms the token may read, within the prefix, and pages by them', async () => {
    const tok = await token({ 'team/doc': 'read', 'team/other': 'write', 'elsewhere/*': 'read' })
    const list = async (query: string, auth = tok) =>
      (await fetch(`${s.http}/api/docs${query}`, { headers: headers(auth) })).json()
    const names = (page: { rooms: { name: string }[] }) => page.rooms.map((r) => r.name)
    assert.deepEqual(names(await list('')), ['elsewhere/x', 'team/doc', 'team/other'])
    const first = await list('?prefix=team%2F&limit=1')
    assert.deepEqual(names(first), ['team/doc'])
    assert.equal(first.next, 'team/doc')
    const second = await list(`?prefix=team%2F&limit=1&after=${encodeURIComponent(first.next)}`)
    assert.deepEqual(names(second), ['team/other'])
    assert.deepEqual(await list('?prefix=nothing'), { rooms: [] })
    assert.deepEqual(await list('', await token({ nowhere: 'read' })), { rooms: [] })
    assert.deepEqual(
      names(await list('?prefix=team', ADMIN)),
      ['team/doc', 'team/other'],
      'the operator reads all',
    )
  })
})

describe('a token in the URL', () => {
  test('is refused with 400 unless --allow-query-token, and then opens a feed as EventSource would', async () => {
    const strict = await startServer({ auth: { secret: SECRET } })
    try {
      const tok = await token({ '*': 'read' })
      const refused = await fetch(`${strict.http}/api/docs/x/events?token=${tok}`)
      assert.equal(refused.status, 400)
      assert.match((await refused.json()).message, /allow-query-token/)
    } finally {
      await strict.stop()
      removeDir(strict.dataDir)
    }
    const lenient = await startServer({ auth: { secret: SECRET, allowQueryToken: true } })
    try {
      const feed = new SseClient(`${lenient.http}/api/docs/x/events?token=${await token({ x: 'read' })}`)
      assert.equal(await feed.opened, 200)
      feed.close()
      const other = new SseClient(`${lenient.http}/api/docs/y/events?token=${await token({ x: 'read' })}`)
      assert.equal(await other.opened, 403)
      other.close()
    } finally {
      await lenient.stop()
      removeDir(lenient.dataDir)
    }
  })
})

describe('open mode with an operator token', () => {
  test('anyone reads and writes, but DELETE needs the operator token', async () => {
    const s = await startServer({ auth: { adminToken: ADMIN } })
    try {
      const posted = await fetch(`${s.http}/api/docs/open/updates`, {
        method: 'POST',
        body: update('open'),
        headers: { 'Content-Type': 'application/octet-stream' },
      })
      assert.equal(posted.status, 200)
      const refused = await fetch(`${s.http}/api/docs/open`, { method: 'DELETE' })
      assert.equal(refused.status, 403)
      assert.equal((await refused.json()).error, 'forbidden')
      const wrong = await fetch(`${s.http}/api/docs/open`, {
        method: 'DELETE',
        headers: headers(`${ADMIN}x`),
      })
      assert.equal(wrong.status, 403)
      const deleted = await fetch(`${s.http}/api/docs/open`, { method: 'DELETE', headers: headers(ADMIN) })
      assert.equal(deleted.status, 204)
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})
