// What a stranger can do to the server over plain HTTP without hurting anyone else: reads of missing
// rooms take no room slot, and half-open connections are closed and capped.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { connectProvider, synced } from './helpers/clients.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

const metric = async (s: TestServer, name: string): Promise<number> => {
  const text = await (await fetch(`${s.http}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
}

describe('reads of rooms that do not exist', () => {
  let s: TestServer
  before(async () => {
    s = await startServer({ maxRooms: 20 })
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('answer 404 without loading a room, so a new WebSocket room still opens', async () => {
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => fetch(`${s.http}/api/rooms/missing-${batch}-${i}/state`)),
      )
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([404]))
    }
    assert.equal(await metric(s, 'plait_loaded_rooms'), 0, 'no room was loaded for a 404')
    const client = connectProvider(s.url, 'after-the-404s')
    await synced(client)
    client.destroy()
  })

  test('a room a socket opened but nobody wrote is 404 and is not loaded twice', async () => {
    const client = connectProvider(s.url, 'empty-but-open')
    await synced(client)
    const loaded = await metric(s, 'plait_loaded_rooms')
    assert.equal((await fetch(`${s.http}/api/rooms/empty-but-open/state`)).status, 404)
    assert.equal(await metric(s, 'plait_loaded_rooms'), loaded)
    client.destroy()
  })
})
