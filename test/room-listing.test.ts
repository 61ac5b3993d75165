// Paging the room list for a token reads only the ranges of storage its docs claim covers, and gives the
// same pages as reading every stored name and keeping the readable ones (real LevelDB, real JWTs).
import assert from 'node:assert/strict'
import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { LevelStore } from '../persistence/level/level-store.js'
import type { Access } from '../server/auth/authenticators.js'
import { jwtIdentify } from '../server/auth/authenticators.js'
import type { Identity } from '../server/auth/identity.js'
import { defaults } from '../server/cli/config.js'
import { mintToken } from '../server/cli/token-command.js'
import { listReadable } from '../server/http/room-listing.js'
import { removeDir, tempDir } from './helpers/server.js'

const SECRET = 'room-listing-test-secret-long-enough'
// Names around the edges of prefix ranges: a prefix itself, neighbours that sort just before or after a
// range in UTF-8 byte order, characters above the BMP and at U+E000.
const names = [
  'team-a',
  'team-a-x',
  'team-a.z',
  'team-a/1',
  'team-a/2',
  'team-a/sub/3',
  'team-a0',
  'team-b/1',
  'team-b0',
  'notes',
  'notes/x',
  'n\u{1f600}',
  'n\ue000',
  'n\ue001/x',
  'zz',
]
const claims: Record<string, Access>[] = [
  { 'team-a/*': 'read', 'team-b/1': 'write' },
  { 'team-a*': 'read' },
  { 'team-a/sub/*': 'read', 'team-a/*': 'write' },
  { notes: 'read', 'n\ue001/*': 'read', 'n\u{1f600}': 'read' },
  { '*': 'read' },
  { 'nothing/*': 'read' },
  { 'n\ue000*': 'read', zz: 'read', 'team-a0': 'read' },
]

describe('the room list of one token', () => {
  let store: LevelStore
  let dir: string
  before(async () => {
    dir = tempDir()
    store = new LevelStore(dir)
    await store.open()
    await store.write({
      appends: names.map((room) => ({ room, update: new Uint8Array([0, 0]) })),
      compactions: [],
    })
  })
  after(async () => {
    await store.close()
    removeDir(dir)
  })

  const identityOf = async (docs: Record<string, Access>): Promise<Identity> => {
    const identify = jwtIdentify({ ...defaults, authSecret: SECRET })
    assert.ok(identify)
    const token = await mintToken({ secret: SECRET, sub: 'u', docs, ttlSeconds: 60 })
    const result = await identify(token, new IncomingMessage(new Socket()))
    assert.ok(result.ok)
    return result.identity
  }

  test('pages through exactly the readable rooms, in storage order, for every page size', async () => {
    const stored = await store.listRooms()
    for (const docs of claims) {
      const identity = await identityOf(docs)
      const expected = stored.filter((room) => {
        const verdict = identity.accessTo(room)
        return !(verdict instanceof Promise) && verdict.ok
      })
      for (const limit of [1, 2, 3, 100]) {
        const seen: string[] = []
        let cursor: string | undefined
        for (let i = 0; i <= names.length; i++) {
          const page = await listReadable((o) => store.listRooms(o), identity, cursor, limit)
          assert.ok(!('refused' in page))
          assert.ok(page.rooms.length <= limit)
          seen.push(...page.rooms)
          if (page.next === undefined) break
          assert.equal(page.next, page.rooms[page.rooms.length - 1], 'next is the last room returned')
          cursor = page.next
        }
        assert.deepEqual(seen, expected, `${JSON.stringify(docs)} limit ${limit}`)
      }
    }
  })

  test('reads only the names in the claimed ranges', async () => {
    const identity = await identityOf({ 'team-b/*': 'read' })
    const read: string[] = []
    const counting = async (options: { after?: string; limit?: number }) => {
      const batch = await store.listRooms(options)
      read.push(...batch)
      return batch
    }
    const page = await listReadable(counting, identity, undefined, 10)
    assert.deepEqual(page, { rooms: ['team-b/1'] })
    assert.deepEqual(read, ['team-b/1', 'team-b0', 'zz'], 'the range and what follows it in one small batch')
    assert.ok(read.length < names.length)
  })
})
