// The document API with auth on: one token check per request, a room list that names only rooms the
// token may read, and room names that are data (no prototype lookups).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as Y from 'yjs'
import type { Access } from '../server/auth/authenticators.js'
import { AuthError } from '../server/auth/authenticators.js'
import { mintToken } from '../server/cli/token-command.js'
import { encodeAuthToken, encodeUpdate } from '../server/protocol/messages.js'
import { metric, RawClient, waitFor, waitForAsync } from './helpers/clients.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

const SECRET = 'http-auth-test-secret-long-enough-for-hs256'

const token = (docs: Record<string, Access>, options: { ttl?: number; secret?: string } = {}) =>
  mintToken({ secret: options.secret ?? SECRET, sub: 'alice', docs, ttlSeconds: options.ttl ?? 600 })

/** A JWT with alg "none": no signature at all. */
function unsignedToken(): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const exp = Math.floor(Date.now() / 1000) + 600
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'mallory', docs: { '*': 'write' }, exp })}.`
}

/** Opens `room` with `tok`, writes some text and waits until it is stored. */
async function storeRoom(s: TestServer, room: string, tok: string): Promise<void> {
  const raw = new RawClient(`${s.url}/${room}`)
  await raw.opened
  raw.send(encodeAuthToken(tok))
  await waitFor(() => raw.framesOf(2, 2).length === 1, `admission to ${room}`)
  const doc = new Y.Doc()
  doc.getText('t').insert(0, room)
  const persisted = await metric(s.http, 'plait_updates_persisted_total')
  raw.send(encodeUpdate(Y.encodeStateAsUpdate(doc)))
  await waitForAsync(
    async () => (await metric(s.http, 'plait_updates_persisted_total')) > persisted,
    `${room} to be stored`,
  )
  raw.close()
}

const get = (s: TestServer, path: string, tok?: string) =>
  fetch(`${s.http}${path}`, tok === undefined ? {} : { headers: { Authorization: `Bearer ${tok}` } })

describe('the room list with JWT auth', () => {
  let s: TestServer
  const stored = ['list/a', 'list/b', 'list/c', 'list/d', 'list/e', 'other/x']
  before(async () => {
    s = await startServer({ auth: { secret: SECRET } })
    const writer = await token({ '*': 'write' })
    for (const room of stored) await storeRoom(s, room, writer)
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('a bad token is refused with 401 and learns nothing', async () => {
    const bad: [string, string][] = [
      ['garbage', 'not-a-jwt'],
      ['a wrong secret', await token({ '*': 'read' }, { secret: 'another-secret-another-secret-xx' })],
      ['alg none', unsignedToken()],
      ['an expired token', await token({ '*': 'read' }, { ttl: -120 })],
    ]
    for (const [what, tok] of bad) {
      for (const path of ['/api/rooms', '/api/rooms?limit=1', '/api/rooms?limit=1&after=list%2Fa']) {
        const response = await get(s, path, tok)
        assert.equal(response.status, 401, `${what} on ${path}`)
        const body = await response.json()
        assert.equal(body.rooms, undefined, what)
        assert.equal(body.next, undefined, what)
      }
    }
    assert.equal((await get(s, '/api/rooms')).status, 401, 'no token')
  })

  test('a token for other rooms gets an empty list and no cursor', async () => {
    const response = await get(s, '/api/rooms?limit=1', await token({ elsewhere: 'write' }))
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), { rooms: [] })
  })

  test('paging one room at a time names only the rooms the token may read', async () => {
    const tok = await token({ 'list/a': 'read', 'list/c': 'write', 'list/e': 'read' })
    const seen: string[] = []
    const pages: string[][] = []
    let after: string | undefined
    for (let i = 0; i < 10; i++) {
      const query = after === undefined ? '' : `&after=${encodeURIComponent(after)}`
      const page = await (await get(s, `/api/rooms?limit=1${query}`, tok)).json()
      pages.push(page.rooms)
      seen.push(...page.rooms)
      if (page.next !== undefined) seen.push(page.next)
      after = page.next
      if (after === undefined) break
    }
    assert.deepEqual(pages.flat(), ['list/a', 'list/c', 'list/e'])
    assert.deepEqual([...new Set(seen)].sort(), ['list/a', 'list/c', 'list/e'], 'no unreadable name leaks')
    assert.ok(pages.every((p) => p.length <= 1))
    const whole = await (await get(s, '/api/rooms', tok)).json()
    assert.deepEqual(whole, { rooms: ['list/a', 'list/c', 'list/e'] })
    const two = await (await get(s, '/api/rooms?limit=2', tok)).json()
    assert.deepEqual(two, { rooms: ['list/a', 'list/c'], next: 'list/c' })
  })

  test('a token that reads everything pages through every stored room', async () => {
    const tok = await token({ '*': 'read' })
    const names: string[] = []
    let after = ''
    for (let i = 0; i < 20; i++) {
      const page = await (await get(s, `/api/rooms?limit=2${after}`, tok)).json()
      names.push(...page.rooms)
      if (page.next === undefined) break
      after = `&after=${encodeURIComponent(page.next)}`
    }
    assert.deepEqual(names, stored)
  })
})

describe('room names that are also Object.prototype keys', () => {
  let s: TestServer
  const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']
  before(async () => {
    s = await startServer({ auth: { secret: SECRET } })
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('open with a "*" token, are stored, read and listed like any room', async () => {
    const tok = await token({ '*': 'write' })
    for (const room of names) await storeRoom(s, room, tok)
    for (const room of names) {
      const state = await get(s, `/api/rooms/${encodeURIComponent(room)}/state`, tok)
      assert.equal(state.status, 200, room)
      const doc = new Y.Doc()
      Y.applyUpdate(doc, new Uint8Array(await state.arrayBuffer()))
      assert.equal(doc.getText('t').toString(), room)
    }
    const listed = await (await get(s, '/api/rooms', tok)).json()
    assert.deepEqual(listed.rooms, [...names].sort())
  })

  test('an exact "__proto__" pattern grants that room and nothing else', async () => {
    const tok = await token(JSON.parse('{"__proto__": "read"}'))
    assert.equal((await get(s, '/api/rooms/__proto__/state', tok)).status, 200)
    assert.equal((await get(s, '/api/rooms/constructor/state', tok)).status, 403)
    const listed = await (await get(s, '/api/rooms', tok)).json()
    assert.deepEqual(listed, { rooms: ['__proto__'] })
  })

  test('a token without access to them is refused, not granted by the prototype', async () => {
    const tok = await token({ elsewhere: 'write' })
    for (const room of names) {
      assert.equal((await get(s, `/api/rooms/${encodeURIComponent(room)}/state`, tok)).status, 403, room)
    }
  })
})

describe('the room list with an embedding hook', () => {
  let s: TestServer
  before(async () => {
    s = await startServer({
      auth: {
        authenticate: (tok, room) => {
          if (tok === 'bad') throw new AuthError(4401, 'unknown session')
          if (room.startsWith('private') && tok !== 'admin') return null
          return { userId: 'app-user', access: 'write' }
        },
      },
    })
    for (const room of ['private/1', 'public/1', 'public/2']) await storeRoom(s, room, 'admin')
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('a hook that says the token is bad answers 401; refused rooms are left out', async () => {
    const refused = await get(s, '/api/rooms', 'bad')
    assert.equal(refused.status, 401)
    assert.deepEqual(await refused.json(), { error: 'unknown session' })
    const listed = await (await get(s, '/api/rooms?limit=1', 'ok')).json()
    assert.deepEqual(listed, { rooms: ['public/1'], next: 'public/1' })
    const rest = await (await get(s, '/api/rooms?limit=1&after=public%2F1', 'ok')).json()
    assert.deepEqual(rest, { rooms: ['public/2'], next: 'public/2' })
  })
})
