// Presence nobody can spoof or weaponise: an awareness client id belongs to the socket that claimed it,
// and a state's size and nesting are capped, so one socket cannot break the cursors of a room.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as decoding from 'lib0/decoding'
import WebSocket from 'ws'
import { createAuthWebSocket } from '../client/index.js'
import { mintToken } from '../server/cli/token-command.js'
import {
  AWARENESS_OUTDATED_MS,
  AwarenessState,
  encodeAwarenessStates,
} from '../server/documents/awareness-state.js'
import { encodeAwareness } from '../server/protocol/messages.js'
import { connectProvider, RawClient, synced, type TestProvider, waitFor } from './helpers/clients.js'
import { removeDir, startServer } from './helpers/server.js'

const awareness = (clientID: number, clock: number, state: string) =>
  encodeAwareness(encodeAwarenessStates([{ clientID, clock, state }]))

type StateOf = { user?: { name?: string; id?: string }; cursor?: number; mark?: number }
const stateOf = (viewer: TestProvider, of: TestProvider) =>
  viewer.provider.awareness.getStates().get(of.doc.clientID) as StateOf | undefined

describe('awareness ownership and limits', () => {
  test("an update for another socket's client id changes nothing, and the owner's own updates still flow", async () => {
    const s = await startServer()
    const ada = connectProvider(s.url, 'cursors')
    const bob = connectProvider(s.url, 'cursors')
    const mallory = new RawClient(`${s.url}/cursors`)
    try {
      await synced(ada, bob)
      await mallory.opened
      ada.provider.awareness.setLocalStateField('user', { name: 'Ada' })
      await waitFor(() => stateOf(bob, ada)?.user?.name === 'Ada', "Bob to see Ada's name")
      const clock = ada.provider.awareness.meta.get(ada.doc.clientID)?.clock ?? 0
      mallory.send(awareness(ada.doc.clientID, clock + 10, '{"user":{"name":"Mallory"}}'))
      mallory.send(awareness(ada.doc.clientID, clock + 11, 'null'))
      // Mallory's own id, sent after the spoofs on the same socket: once Bob sees it, they were handled.
      mallory.send(awareness(4242, 1, '{"mark":1}'))
      await waitFor(() => bob.provider.awareness.getStates().get(4242)?.mark === 1, "Mallory's own state")
      assert.equal(stateOf(bob, ada)?.user?.name, 'Ada', 'Bob still sees Ada as Ada')
      assert.equal(stateOf(ada, ada)?.user?.name, 'Ada', 'Ada did not adopt a fake state of her own')
      ada.provider.awareness.setLocalStateField('cursor', 7)
      await waitFor(() => stateOf(bob, ada)?.cursor === 7, "Ada's next move to reach Bob")
      const metrics = await (await fetch(`${s.http}/metrics`)).text()
      assert.match(metrics, /plait_awareness_ignored_total 2\n/)
    } finally {
      mallory.close()
      ada.destroy()
      bob.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a deeply nested or huge awareness state is refused with 1007, and the stock clients keep working', async () => {
    const s = await startServer()
    const ada = connectProvider(s.url, 'deep')
    const bob = connectProvider(s.url, 'deep')
    try {
      await synced(ada, bob)
      const deep = new RawClient(`${s.url}/deep`)
      await deep.opened
      deep.send(awareness(901, 1, `${'['.repeat(20_000)}${']'.repeat(20_000)}`))
      assert.equal(await deep.closed, 1007)
      assert.match(deep.closeReason, /nests deeper than 32 levels/)
      const huge = new RawClient(`${s.url}/deep`)
      await huge.opened
      huge.send(awareness(902, 1, JSON.stringify({ blob: 'x'.repeat(12 * 1024 * 1024) })))
      assert.equal(await huge.closed, 1007)
      assert.match(huge.closeReason, /over the limit of 65536 \(--max-awareness-state\)/)
      ada.provider.awareness.setLocalStateField('cursor', 3)
      await waitFor(() => stateOf(bob, ada)?.cursor === 3, 'presence to keep flowing')
      assert.equal(bob.provider.awareness.getStates().has(901), false)
      assert.equal(bob.provider.awareness.getStates().has(902), false)
      const late = connectProvider(s.url, 'deep')
      await synced(late)
      await waitFor(() => stateOf(late, ada)?.cursor === 3, 'a newcomer to get the room')
      late.destroy()
    } finally {
      ada.destroy()
      bob.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('with --awareness-user-id each state carries the verified user id, whatever the client wrote', async () => {
    const secret = 'presence-secret-presence-secret!'
    const s = await startServer({ auth: { secret, awarenessUserId: true } })
    const token = (sub: string) => mintToken({ secret, sub, docs: { '*': 'write' }, ttlSeconds: 600 })
    const ada = connectProvider(s.url, 'team', {
      WebSocketPolyfill: createAuthWebSocket({ token: await token('ada'), WebSocket }),
    })
    const bob = connectProvider(s.url, 'team', {
      WebSocketPolyfill: createAuthWebSocket({ token: await token('bob'), WebSocket }),
    })
    try {
      await synced(ada, bob)
      ada.provider.awareness.setLocalStateField('user', { name: 'Ada', id: 'bob' })
      await waitFor(() => stateOf(bob, ada)?.user?.name === 'Ada', "Bob to see Ada's state")
      assert.equal(stateOf(bob, ada)?.user?.id, 'ada')
    } finally {
      ada.destroy()
      bob.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})

describe('AwarenessState', () => {
  const owner = (userId: string | null) => ({ userId })

  test('an id may be claimed by another socket of the same user, or once its owner stopped renewing it', () => {
    const room = new AwarenessState<{ userId: string | null }>()
    const first = owner(null)
    const second = owner(null)
    const t0 = 1_000_000
    assert.deepEqual(room.apply([{ clientID: 1, clock: 1, state: '{"a":1}' }], first, 16, t0), {
      accepted: 1,
      ignored: 0,
    })
    const early = room.apply([{ clientID: 1, clock: 2, state: '{"b":1}' }], second, 16, t0 + 1000)
    assert.deepEqual(early, { accepted: 0, ignored: 1 })
    const late = room.apply(
      [{ clientID: 1, clock: 3, state: '{"c":1}' }],
      second,
      16,
      t0 + AWARENESS_OUTDATED_MS,
    )
    assert.deepEqual(late, { accepted: 1, ignored: 0 }, 'a reconnected client takes its stale id back')
    const sameUser = new AwarenessState<{ userId: string | null }>()
    sameUser.apply([{ clientID: 5, clock: 1, state: '{}' }], owner('ada'), 16, t0)
    const again = sameUser.apply([{ clientID: 5, clock: 2, state: '{}' }], owner('ada'), 16, t0 + 1)
    assert.deepEqual(again, { accepted: 1, ignored: 0 })
  })

  test('ids a socket removed stay its own until it leaves, and count toward its cap', () => {
    const room = new AwarenessState<{ userId: string | null }>()
    const a = owner(null)
    const b = owner(null)
    room.apply([{ clientID: 1, clock: 1, state: '{}' }], a, 1, 0)
    room.apply([{ clientID: 1, clock: 1, state: 'null' }], a, 1, 0)
    assert.equal(room.encodeAll(), null, 'the removed state is not sent')
    assert.deepEqual(room.apply([{ clientID: 1, clock: 2, state: '{}' }], b, 1, 1), {
      accepted: 0,
      ignored: 1,
    })
    assert.deepEqual(room.apply([{ clientID: 2, clock: 1, state: '{}' }], a, 1, 1), {
      accepted: 0,
      ignored: 0,
    })
    room.removeOwnedBy(a)
    assert.deepEqual(room.apply([{ clientID: 1, clock: 2, state: '{}' }], b, 1, 2), {
      accepted: 1,
      ignored: 0,
    })
  })
})

/** Client id → latest clock in the awareness updates of `frames`, and how many awareness frames there were. */
function awarenessClocks(frames: { payload: Uint8Array | null }[]): Map<number, number> {
  const clocks = new Map<number, number>()
  for (const { payload } of frames) {
    if (payload === null) continue
    const decoder = decoding.createDecoder(payload)
    const count = decoding.readVarUint(decoder)
    for (let i = 0; i < count; i++) {
      const clientID = decoding.readVarUint(decoder)
      const clock = decoding.readVarUint(decoder)
      decoding.readVarString(decoder)
      clocks.set(clientID, Math.max(clock, clocks.get(clientID) ?? 0))
    }
  }
  return clocks
}

describe('--awareness-frames-per-second', () => {
  test("a busy room sends each socket one awareness frame per interval, with every cursor's latest state", async () => {
    // 20 frames a second for 3 members: one awareness broadcast per 150 ms at most.
    const s = await startServer({ tuning: { awarenessFramesPerSecond: 20 } })
    const listener = new RawClient(`${s.url}/storm`)
    const a = new RawClient(`${s.url}/storm`)
    const b = new RawClient(`${s.url}/storm`)
    try {
      await Promise.all([listener.opened, a.opened, b.opened])
      for (let clock = 1; clock <= 10; clock++) {
        a.send(awareness(101, clock, `{"cursor":${clock}}`))
        b.send(awareness(202, clock, `{"cursor":${clock}}`))
        // Pacing, not synchronisation: each move reaches the server in a turn of its own.
        await new Promise((r) => setTimeout(r, 2))
      }
      const frames = () => listener.framesOf(1)
      await waitFor(() => {
        const clocks = awarenessClocks(frames())
        return clocks.get(101) === 10 && clocks.get(202) === 10
      }, 'the listener to see both cursors at their last move')
      assert.ok(frames().length <= 4, `20 moves in ~30 ms arrived in ${frames().length} frames, not merged`)
    } finally {
      for (const c of [listener, a, b]) c.close()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a small room relays every cursor move at once, one frame per move', async () => {
    const s = await startServer()
    const listener = new RawClient(`${s.url}/small`)
    const a = new RawClient(`${s.url}/small`)
    try {
      await Promise.all([listener.opened, a.opened])
      for (let clock = 1; clock <= 5; clock++) {
        a.send(awareness(303, clock, `{"cursor":${clock}}`))
        await waitFor(
          () => awarenessClocks(listener.framesOf(1)).get(303) === clock,
          `move ${clock} to arrive before the next is sent`,
        )
      }
      assert.equal(listener.framesOf(1).length, 5)
    } finally {
      listener.close()
      a.close()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})
