// The embedding hooks, as a notes app would use them: seed a new note in onLoad, follow changes with
// their origin in onChange, and survive hooks that throw or hang.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import WebSocket from 'ws'
import { createAuthWebSocket } from '../client/index.js'
import type { Origin } from '../server/documents/origin.js'
import type { Extension } from '../server/hooks/extension.js'
import { connectProvider, synced, waitFor } from './helpers/clients.js'
import { removeDir, startServer, tempDir } from './helpers/server.js'

describe('extensions', () => {
  test('onLoad seeds a new note once; the seed is stored and a client sees it', async () => {
    const dataDir = tempDir()
    const loads: { room: string; isNew: boolean }[] = []
    const template: Extension = {
      onLoad: ({ room, doc, isNew }) => {
        loads.push({ room, isNew })
        if (isNew) doc.getText('t').insert(0, '# New note\n')
      },
    }
    let s = await startServer({ extensions: [template] }, dataDir)
    let client = connectProvider(s.url, 'notes/1')
    try {
      await synced(client)
      await waitFor(() => client.text.toString() === '# New note\n', 'the seeded note')
      client.text.insert(client.text.length, 'my text')
      await waitFor(() => client.provider.synced, 'the edit to be sent')
    } finally {
      client.destroy()
      await s.stop()
    }
    s = await startServer({ extensions: [template] }, dataDir)
    client = connectProvider(s.url, 'notes/1')
    try {
      await synced(client)
      await waitFor(
        () => client.text.toString() === '# New note\nmy text',
        'the stored note, not seeded again',
      )
      assert.deepEqual(loads, [
        { room: 'notes/1', isNew: true },
        { room: 'notes/1', isNew: false },
      ])
    } finally {
      client.destroy()
      await s.stop()
      removeDir(dataDir)
    }
  })

  test('onChange hears every change with its origin, extensions in order; connect and disconnect too', async () => {
    const secret = 'hooks-secret-hooks-secret-hooks-sec'
    const calls: string[] = []
    const origins: Origin[] = []
    const first: Extension = {
      onChange: ({ room, origins: by }) => {
        calls.push(`first ${room}`)
        origins.push(...by)
      },
      onConnect: ({ origin }) => {
        calls.push(`connect ${origin.kind === 'client' ? origin.userId : '?'}`)
      },
      onDisconnect: () => {
        calls.push('disconnect')
      },
    }
    const second: Extension = {
      onChange: async ({ room }) => {
        await new Promise((r) => setImmediate(r))
        calls.push(`second ${room}`)
      },
    }
    const s = await startServer({ auth: { secret }, extensions: [first, second] })
    const { mintToken } = await import('../server/cli/token-command.js')
    const token = await mintToken({ secret, sub: 'ada', docs: { '*': 'write' }, ttlSeconds: 600 })
    const ada = connectProvider(s.url, 'index-me', {
      WebSocketPolyfill: createAuthWebSocket({ token, WebSocket }),
    })
    try {
      await synced(ada)
      ada.text.insert(0, 'searchable')
      await waitFor(() => calls.includes('second index-me'), 'both hooks')
      assert.deepEqual(
        calls.filter((c) => c.includes('index-me')),
        ['first index-me', 'second index-me'],
      )
      assert.ok(calls.includes('connect ada'))
      assert.equal(origins[0].kind === 'client' && origins[0].userId, 'ada')
      ada.destroy()
      await waitFor(() => calls.includes('disconnect'), 'onDisconnect')
    } finally {
      ada.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a hook that throws or hangs is logged, and neither the room nor later hooks wait for it', async () => {
    const seen: number[] = []
    let calls = 0
    const flaky: Extension = {
      timeoutMs: 200,
      onChange: () => {
        calls++
        if (calls === 1) throw new Error('index is down')
        if (calls === 2) return new Promise<void>(() => {}) // never settles
        seen.push(calls)
      },
    }
    const s = await startServer({ extensions: [flaky] })
    const a = connectProvider(s.url, 'sturdy')
    const b = connectProvider(s.url, 'sturdy')
    try {
      await synced(a, b)
      for (const word of ['one', 'two', 'three']) {
        a.text.insert(a.text.length, word)
        await waitFor(() => b.text.toString().endsWith(word), `"${word}" to reach b at once`)
      }
      await waitFor(() => seen.length > 0, 'the hook to be called again after the hung call timed out')
      const failures = s.logs.lines.filter((l) => l.msg === 'a hook failed; the room carries on')
      assert.equal(failures.length, 2, 'the throw and the timeout are logged')
      assert.equal(failures[0].room, 'sturdy')
    } finally {
      a.destroy()
      b.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test("an extension's authenticate decides who gets in", async () => {
    const gate: Extension = {
      authenticate: (token) => (token === 'let-me-in' ? { userId: 'u1', access: 'write' } : null),
    }
    const s = await startServer({ extensions: [gate] })
    const ok = connectProvider(s.url, 'guarded', {
      WebSocketPolyfill: createAuthWebSocket({ token: 'let-me-in', WebSocket }),
    })
    try {
      await synced(ok)
      const info = await (await fetch(`${s.http}/api/info`)).json()
      assert.equal(info.auth, 'token')
    } finally {
      ok.destroy()
      await s.stop()
      removeDir(s.dataDir)
    }
  })
})
