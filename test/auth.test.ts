import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { createAuthWebSocket, shouldReconnect } from '../client/index.js'
import { accessFor, readDocsClaim } from '../server/auth/access.js'
import { type Access, AuthError } from '../server/auth/authenticators.js'
import { mintToken } from '../server/cli/token-command.js'
import { decodeAwarenessUpdate, encodeAwarenessStates } from '../server/documents/awareness-state.js'
import {
  encodeAuthToken,
  encodeAwareness,
  encodeSyncStep1,
  encodeUpdate,
} from '../server/protocol/messages.js'
import { createServer } from '../server/server.js'
import {
  connectProvider,
  metric,
  RawClient,
  roomState,
  synced,
  type TestProvider,
  updateOf,
  upgradeStatus,
  waitFor,
  waitForAsync,
} from './helpers/clients.js'
import { removeDir, runPlait, startServer, type TestServer, tempDir } from './helpers/server.js'
import { readStored } from './helpers/stored.js'

const SECRET = 'test-secret-that-is-long-enough-for-hs256'
const minted: string[] = []

async function token(
  docs: Record<string, Access>,
  options: { ttl?: number; nbf?: number; secret?: string } = {},
) {
  const t = await mintToken({
    secret: options.secret ?? SECRET,
    sub: 'alice',
    docs,
    ttlSeconds: options.ttl ?? 600,
    notBeforeSeconds: options.nbf,
  })
  minted.push(t)
  return t
}

/** Opens a raw socket to `room`, sends `firstFrame`, and waits for the server to close it. */
async function refusal(url: string, firstFrame: Uint8Array | null) {
  const raw = new RawClient(url)
  await raw.opened
  if (firstFrame) raw.send(firstFrame)
  const code = await Promise.race([raw.closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))])
  raw.close()
  return { code, reason: raw.closeReason, frames: raw.frames }
}

/** A raw socket admitted with `tok`; resolves once the authenticated frame arrived. */
async function admitted(url: string, tok: string): Promise<RawClient> {
  const raw = new RawClient(url)
  await raw.opened
  raw.send(encodeAuthToken(tok))
  await waitFor(() => raw.framesOf(2, 2).length === 1 || raw.closeCode !== null, 'a verdict')
  return raw
}

const scopeOf = (raw: RawClient) => new TextDecoder().decode(raw.framesOf(2, 2)[0]?.payload?.subarray(1))

describe('JWT auth on the first message', () => {
  let s: TestServer
  before(async () => {
    s = await startServer({
      allowedOrigins: ['https://app.example'],
      auth: { secret: SECRET, timeoutMs: 400 },
    })
  })
  after(async () => {
    await s.stop()
    const leaked = s.logs.raw.filter((line) =>
      minted.some((t) => line.includes(t) || line.includes(t.split('.')[2])),
    )
    assert.deepEqual(leaked, [], 'no token (or its signature) appears in the logs')
    assert.ok(
      s.logs.raw.some((l) => l.includes('"user":"alice"')),
      'the user id is logged instead',
    )
    removeDir(s.dataDir)
  })

  test('no token within the timeout: 4408', async () => {
    const { code } = await refusal(`${s.url}/doc`, null)
    assert.equal(code, 4408)
  })

  test('a stock provider without a token is closed with 4408 and receives no document byte', async () => {
    const raw = new RawClient(`${s.url}/doc`)
    await raw.opened
    raw.send(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())))
    assert.equal(await raw.closed, 4408)
    assert.deepEqual(
      raw.frames.filter((f) => f.type !== 2),
      [],
    )
  })

  const refused: [string, () => Promise<string>, number, RegExp][] = [
    ['garbage', async () => 'not-a-jwt', 4401, /malformed/],
    [
      'a bad signature',
      () => token({ doc: 'write' }, { secret: 'another-secret-another-secret-xx' }),
      4401,
      /signature/,
    ],
    ['an expired token', () => token({ doc: 'write' }, { ttl: -120 }), 4401, /expired/],
    ['a token not yet valid', () => token({ doc: 'write' }, { nbf: 600 }), 4401, /not valid yet/],
    ['a token for another room', () => token({ other: 'write' }), 4403, /no access to doc/],
  ]
  for (const [what, make, expected, reason] of refused) {
    test(`${what}: permission-denied, then ${expected}, and no document byte`, async () => {
      const {
        code,
        reason: closeReason,
        frames,
      } = await refusal(`${s.url}/doc`, encodeAuthToken(await make()))
      assert.equal(code, expected)
      assert.match(closeReason, reason)
      assert.equal(frames.length, 1, 'only the permission-denied frame')
      assert.equal(frames[0].type, 2)
      assert.equal(frames[0].sub, 0)
    })
  }

  test('the most specific pattern wins, exact names over prefixes', async () => {
    const docs: Record<string, Access> = {
      'team/*': 'write',
      'team/secret/*': 'read',
      'team/secret/open': 'write',
      handbook: 'read',
    }
    const claim = readDocsClaim(docs)
    assert.equal(accessFor(claim, 'team/x'), 'write')
    assert.equal(accessFor(claim, 'team/secret/plan'), 'read')
    assert.equal(accessFor(claim, 'team/secret/open'), 'write')
    assert.equal(accessFor(claim, 'handbook'), 'read')
    assert.equal(accessFor(claim, 'handbook2'), null)
    assert.equal(accessFor(claim, 'teams'), null)
    const tok = await token(docs)
    const cases: [string, string][] = [
      ['team/x', 'read-write'],
      ['team/secret/plan', 'readonly'],
      ['team/secret/open', 'read-write'],
      ['handbook', 'readonly'],
    ]
    for (const [room, scope] of cases) {
      const raw = await admitted(`${s.url}/${room}`, tok)
      assert.equal(scopeOf(raw), scope, room)
      raw.close()
    }
    assert.equal((await refusal(`${s.url}/elsewhere`, encodeAuthToken(tok))).code, 4403)
  })

  test('a read-only client cannot change the room, but receives everything and may send awareness', async () => {
    const writerToken = await token({ 'ro/*': 'write' })
    const readerToken = await token({ 'ro/*': 'read' })
    const WS = (t: string) => createAuthWebSocket({ token: t, WebSocket: WebSocket })
    const writer = connectProvider(s.url, 'ro/doc', { WebSocketPolyfill: WS(writerToken) })
    const reader = connectProvider(s.url, 'ro/doc', { WebSocketPolyfill: WS(readerToken) })
    try {
      await synced(writer, reader)
      writer.text.insert(0, 'official')
      await waitFor(() => reader.text.toString() === 'official', 'the reader to receive the edit')
      const persistedBefore = await metric(s.http, 'plait_updates_persisted_total')
      reader.text.insert(0, 'vandal ')
      reader.provider.awareness.setLocalStateField('user', { name: 'reader' })
      await waitFor(
        () => writer.provider.awareness.getStates().get(reader.doc.clientID)?.user?.name === 'reader',
        'the reader awareness to reach the writer',
      )
      // The reader's awareness arrived, so the server has handled its edit (one socket's frames in order).
      // A marker through the same path: the writer's next edit queues behind the reader's in the document,
      // so once it is stored and relayed, an accepted vandal edit would have been stored and relayed too.
      writer.text.insert(writer.text.length, '!')
      await waitFor(() => reader.text.toString().endsWith('official!'), 'the marker edit to reach the reader')
      assert.equal(writer.text.toString(), 'official!', 'other clients are unchanged')
      assert.equal(
        (await metric(s.http, 'plait_updates_persisted_total')) - persistedBefore,
        1,
        'only the marker was stored',
      )
      const state = await roomState(s.http, 'ro/doc', writerToken)
      assert.equal(state?.getText('t').toString(), 'official!', 'the server state is unchanged')
      assert.equal(reader.provider.wsconnected, true, 'the read-only socket is not closed for trying')
    } finally {
      writer.destroy()
      reader.destroy()
    }
  })

  test('the document API takes the same token as a bearer and the same room rules', async () => {
    const writer = connectProvider(s.url, 'api/doc', {
      WebSocketPolyfill: createAuthWebSocket({
        token: await token({ 'api/*': 'write' }),
        WebSocket: WebSocket,
      }),
    })
    await synced(writer)
    const persisted = await metric(s.http, 'plait_updates_persisted_total')
    writer.text.insert(0, 'secret plans')
    await waitForAsync(
      async () => (await metric(s.http, 'plait_updates_persisted_total')) > persisted,
      'the edit to be stored',
    )
    writer.destroy()
    const url = `${s.http}/api/rooms/${encodeURIComponent('api/doc')}/state`
    assert.equal((await fetch(url)).status, 401)
    assert.equal((await fetch(url, { headers: { Authorization: 'Bearer garbage' } })).status, 401)
    const other = await token({ 'elsewhere/*': 'read' })
    assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${other}` } })).status, 403)
    const reader = await token({ 'api/*': 'read' })
    const ok = await fetch(url, { headers: { Authorization: `Bearer ${reader}` } })
    assert.equal(ok.status, 200)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, new Uint8Array(await ok.arrayBuffer()))
    assert.equal(doc.getText('t').toString(), 'secret plans')
    const listed = await (
      await fetch(`${s.http}/api/rooms`, { headers: { Authorization: `Bearer ${reader}` } })
    ).json()
    assert.deepEqual(listed.rooms, ['api/doc'])
  })

  test('a foreign Origin is refused with 403 before a socket exists', async () => {
    assert.equal(await upgradeStatus(s.port, '/doc', { Origin: 'https://evil.example' }), 403)
    assert.equal(await upgradeStatus(s.port, '/doc', { Origin: 'https://app.example' }), 101)
  })

  test('a token in the URL is refused by default', async () => {
    const tok = await token({ doc: 'write' })
    assert.equal(await upgradeStatus(s.port, `/doc?token=${tok}`), 400)
  })

  test('the client helper refreshes its token on every connect', async () => {
    const calls: string[] = []
    const scopes: string[] = []
    const WebSocketPolyfill = createAuthWebSocket({
      token: async () => {
        const t = await token({ 'refresh/*': 'write' }, { ttl: 60 + calls.length })
        calls.push(t)
        return t
      },
      WebSocket: WebSocket,
      onAuthenticated: (scope) => scopes.push(scope),
    })
    const client = connectProvider(s.url, 'refresh/doc', { WebSocketPolyfill })
    const other = connectProvider(s.url, 'refresh/doc', {
      WebSocketPolyfill: createAuthWebSocket({
        token: await token({ 'refresh/*': 'write' }),
        WebSocket: WebSocket,
      }),
    })
    try {
      await synced(client, other)
      assert.equal(calls.length, 1)
      // The server drops the socket (as a restart would); the provider reconnects with a fresh token.
      for (const c of s.server.gateway.connections) if (c.roomName === 'refresh/doc') c.terminate()
      await waitFor(() => calls.length >= 2 && client.provider.wsconnected, 'a reconnect with a new token')
      assert.notEqual(calls[0], calls[1])
      await synced(client, other)
      client.text.insert(0, 'after refresh')
      await waitFor(() => other.text.toString() === 'after refresh', 'edits to flow after the reconnect')
      assert.deepEqual(scopes.slice(0, 2), ['read-write', 'read-write'])
    } finally {
      client.destroy()
      other.destroy()
    }
  })

  test('the client helper stops retrying on 4401 and 4403 and reports why', async () => {
    for (const [tok, expected] of [
      ['garbage', 4401],
      [await token({ nope: 'write' }), 4403],
    ] as const) {
      const errors: { code: number; reason: string }[] = []
      const opened = await metric(s.http, 'plait_sockets_opened_total')
      const client = connectProvider(s.url, 'stop/doc', {
        WebSocketPolyfill: createAuthWebSocket({
          token: tok,
          WebSocket: WebSocket,
          onAuthError: (e) => errors.push(e),
        }),
      })
      await waitFor(() => errors.length === 1, 'the auth error event')
      assert.equal(errors[0].code, expected)
      assert.ok(errors[0].reason.length > 0)
      // Nothing to wait for when the client behaves: y-websocket's first retry would come after a few
      // hundred milliseconds (its backoff starts at 200 ms), so 1.5 s bounds a retry that must not happen.
      await new Promise((r) => setTimeout(r, 1500))
      assert.equal((await metric(s.http, 'plait_sockets_opened_total')) - opened, 1, 'no reconnect attempts')
      client.destroy()
    }
    assert.equal(shouldReconnect({ code: 4401 }), false)
  })
})

const pausesOf = (s: TestServer) => metric(s.http, 'plait_socket_pauses_total')

/** The clock of the last state in an awareness frame from the server. */
function lastAwarenessClock(frame: { payload: Uint8Array | null }): number {
  const changes = decodeAwarenessUpdate(frame.payload ?? new Uint8Array([0]), 1 << 20)
  return changes.length === 0 ? 0 : changes[changes.length - 1].clock
}

describe('admission queue and limits', () => {
  let s: TestServer
  let release: () => void = () => {}
  let gate: Promise<void> = Promise.resolve()
  before(async () => {
    s = await startServer({
      limits: {
        preAuthMaxFrames: 4,
        preAuthMaxBytes: 64 * 1024,
        maxMessagesPerSecond: 40,
        messageBurst: 20,
        maxSocketsPerIp: 6,
      },
      auth: {
        // An app's own async check that the test can hold, to queue frames behind it.
        authenticate: async (tok, room) => {
          await gate
          if (tok === 'bad') throw new AuthError(4401, 'unknown session')
          if (tok === 'reader') return { userId: 'r', access: 'read' }
          if (room.startsWith('private')) return null
          return { userId: 'app-user', access: 'write' }
        },
      },
    })
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('frames sent before the verdict are processed in order after it', async () => {
    gate = new Promise((r) => {
      release = r
    })
    const raw = new RawClient(`${s.url}/queued`)
    await raw.opened
    const framesBefore = await metric(s.http, 'plait_frames_in_total')
    const doc = new Y.Doc()
    raw.send(encodeAuthToken('ok'))
    raw.send(encodeSyncStep1(Y.encodeStateVector(doc)))
    doc.getText('t').insert(0, 'one ')
    raw.send(encodeUpdate(Y.encodeStateAsUpdate(doc)))
    raw.send(encodeUpdate(updateOf(doc, () => doc.getText('t').insert(4, 'two'))))
    raw.send(encodeAwareness(encodeAwarenessStates([{ clientID: 5, clock: 1, state: '{"n":1}' }])))
    // The server has all five frames (counted on arrival) before we look for answers.
    await waitForAsync(
      async () => (await metric(s.http, 'plait_frames_in_total')) >= framesBefore + 5,
      'the server to receive the frames',
    )
    assert.equal(raw.frames.length, 0, 'nothing is answered before the verdict')
    // Joins behind the same held verdict; created after the count above so its frames do not add to it.
    const watcher = connectProvider(s.url, 'queued', {
      WebSocketPolyfill: createAuthWebSocket({ token: 'ok', WebSocket: WebSocket }),
    })
    release()
    await synced(watcher)
    await waitFor(() => watcher.text.toString() === 'one two', 'the queued updates to apply in order')
    await waitFor(() => raw.framesOf(1).length > 0, 'the queued awareness to be echoed')
    assert.equal(raw.frames[0].type, 2, 'the verdict comes first')
    assert.ok(raw.framesOf(0, 1).length === 1, 'the queued step 1 was answered')
    raw.close()
    watcher.destroy()
  })

  test('a burst before the verdict pauses the socket instead of refusing it; all of it applies after', async () => {
    gate = new Promise((r) => {
      release = r
    })
    const watcher = connectProvider(s.url, 'burst', {
      WebSocketPolyfill: createAuthWebSocket({ token: 'ok', WebSocket: WebSocket }),
    })
    const raw = new RawClient(`${s.url}/burst`)
    await raw.opened
    raw.send(encodeAuthToken('ok'))
    const doc = new Y.Doc()
    for (let i = 0; i < 30; i++) raw.send(encodeUpdate(updateOf(doc, () => doc.getText('t').insert(0, 'x'))))
    await waitForAsync(async () => (await pausesOf(s)) > 0, 'the socket to be paused with its queue full')
    release()
    await synced(watcher)
    await waitFor(() => watcher.text.length === 30, 'all 30 queued edits to arrive')
    assert.equal(raw.closeCode, null, 'the socket was never closed')
    raw.close()
    watcher.destroy()
  })

  test('a frame far over the pre-admission byte bound before the verdict: 4429', async () => {
    gate = new Promise((r) => {
      release = r
    })
    const raw = new RawClient(`${s.url}/flood`)
    await raw.opened
    raw.send(encodeAuthToken('ok'))
    raw.send(encodeUpdate(new Uint8Array(200 * 1024)))
    assert.equal(await raw.closed, 4429)
    assert.match(raw.closeReason, /before the token was verified/)
    release()
  })

  test('the embedding hook decides: null is 4403, AuthError picks its code, access sets the scope', async () => {
    gate = Promise.resolve()
    assert.equal((await refusal(`${s.url}/private/x`, encodeAuthToken('ok'))).code, 4403)
    assert.equal((await refusal(`${s.url}/doc`, encodeAuthToken('bad'))).code, 4401)
    const reader = await admitted(`${s.url}/doc`, 'reader')
    assert.equal(scopeOf(reader), 'readonly')
    reader.close()
  })

  test('a socket sending faster than its rate is slowed, not closed, and every frame is handled', async () => {
    gate = Promise.resolve()
    const raw = await admitted(`${s.url}/rate`, 'ok')
    const before = await pausesOf(s)
    for (let i = 0; i < 100; i++) {
      raw.send(encodeAwareness(encodeAwarenessStates([{ clientID: 9, clock: i + 1, state: `{"i":${i}}` }])))
    }
    // 20 frames of burst, then 40 a second: the last state arrives after about 2 s.
    await waitFor(() => raw.framesOf(1).some((f) => lastAwarenessClock(f) === 100), 'the 100th state', 15_000)
    assert.equal(raw.closeCode, null, 'the socket was never closed')
    assert.ok((await pausesOf(s)) > before, 'the socket was paused')
    raw.close()
  })

  test('per-address socket limits answer HTTP 429 and are counted in /metrics', async () => {
    gate = Promise.resolve()
    await waitForAsync(
      async () => (await metric(s.http, 'plait_open_sockets')) === 0,
      'earlier sockets to close',
    )
    const held: RawClient[] = []
    for (let i = 0; i < 6; i++) {
      const c = new RawClient(`${s.url}/many`)
      held.push(c)
      await c.opened
    }
    assert.equal(await upgradeStatus(s.port, '/many'), 429)
    for (const c of held) c.close()
    const metrics = await (await fetch(`${s.http}/metrics`)).text()
    assert.match(metrics, /plait_upgrades_rejected_total\{reason="ip-sockets"\} 1/)
  })
})

describe('auth modes', () => {
  test('upgrade rate per address is limited with HTTP 429', async () => {
    const s = await startServer({ limits: { maxUpgradesPerIpPerMinute: 3 } })
    try {
      for (let i = 0; i < 3; i++) assert.equal(await upgradeStatus(s.port, '/r'), 101)
      assert.equal(await upgradeStatus(s.port, '/r'), 429)
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a query token is accepted with --allow-query-token', async () => {
    const s = await startServer({ auth: { secret: SECRET, allowQueryToken: true } })
    try {
      const tok = await token({ doc: 'write' })
      const raw = new RawClient(`${s.url}/doc?token=${tok}`)
      await raw.opened
      await waitFor(() => raw.framesOf(2, 2).length === 1, 'admission')
      assert.equal(scopeOf(raw), 'read-write')
      raw.close()
      assert.ok(
        s.logs.lines.some((l) => l.level === 40 && String(l.msg).includes('URL query')),
        'with a warning',
      )
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('open mode is refused on a non-loopback host unless --allow-anonymous', () => {
    const result = runPlait(['--host', '0.0.0.0', '--data', tempDir()])
    assert.equal(result.status, 2)
    assert.match(result.stderr, /refusing to serve 0\.0\.0\.0 without auth/)
    assert.doesNotThrow(() =>
      createServer({ host: '0.0.0.0', dataDir: tempDir(), auth: { allowAnonymous: true } }),
    )
    assert.doesNotThrow(() => createServer({ host: '0.0.0.0', dataDir: tempDir(), auth: { secret: SECRET } }))
  })

  test('asymmetric keys from a JWKS file (ES256 and EdDSA) are verified', async () => {
    const dir = tempDir()
    const es = await generateKeyPair('ES256')
    const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const jwks = {
      keys: [
        { ...(await exportJWK(es.publicKey)), kid: 'es', alg: 'ES256' },
        { ...(await exportJWK(ed.publicKey)), kid: 'ed', alg: 'EdDSA' },
      ],
    }
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks))
    const s = await startServer({ auth: { jwks: join(dir, 'jwks.json'), issuer: 'https://id.example' } })
    try {
      for (const [alg, kid, key] of [
        ['ES256', 'es', es.privateKey],
        ['EdDSA', 'ed', ed.privateKey],
      ] as const) {
        const signed = await new SignJWT({ docs: { 'k/*': 'write' } })
          .setProtectedHeader({ alg, kid })
          .setSubject('bob')
          .setIssuer('https://id.example')
          .setExpirationTime('5m')
          .sign(key)
        const raw = await admitted(`${s.url}/k/1`, signed)
        assert.equal(scopeOf(raw), 'read-write', alg)
        raw.close()
        const wrongIssuer = await new SignJWT({ docs: { 'k/*': 'write' } })
          .setProtectedHeader({ alg, kid })
          .setSubject('bob')
          .setIssuer('https://other.example')
          .setExpirationTime('5m')
          .sign(key)
        assert.equal((await refusal(`${s.url}/k/1`, encodeAuthToken(wrongIssuer))).code, 4401)
      }
    } finally {
      await s.stop()
      removeDir(s.dataDir)
      removeDir(dir)
    }
  })

  test('plait token mints a token the server accepts', async () => {
    const result = runPlait(['token', '--sub', 'carol', '--doc', 'cli/*', '--write'], {
      ...process.env,
      AUTH_SECRET: SECRET,
    })
    assert.equal(result.status, 0, result.stderr)
    const tok = result.stdout.trim()
    const s = await startServer({ auth: { secret: SECRET } })
    try {
      const raw = await admitted(`${s.url}/cli/doc`, tok)
      assert.equal(scopeOf(raw), 'read-write')
      raw.close()
    } finally {
      await s.stop()
      removeDir(s.dataDir)
    }
  })

  test('a read-only socket leaves storage unchanged across a restart', async () => {
    const dataDir = tempDir()
    const s = await startServer({ auth: { secret: SECRET } }, dataDir)
    const write = await token({ kept: 'write' })
    const read = await token({ kept: 'read' })
    let writer: TestProvider | null = null
    try {
      writer = connectProvider(s.url, 'kept', {
        WebSocketPolyfill: createAuthWebSocket({ token: write, WebSocket: WebSocket }),
      })
      await synced(writer)
      writer.text.insert(0, 'truth')
      writer.destroy()
      writer = null
      const raw = await admitted(`${s.url}/kept`, read)
      const doc = new Y.Doc()
      doc.getText('t').insert(0, 'lies')
      raw.send(encodeUpdate(Y.encodeStateAsUpdate(doc)))
      // A marker on the same socket: the answer to a sync step 1 comes after the server handled the edit,
      // and the stop below writes everything it accepted.
      const answers = raw.framesOf(0, 1).length
      raw.send(encodeSyncStep1(Y.encodeStateVector(new Y.Doc())))
      await waitFor(() => raw.framesOf(0, 1).length > answers, 'the answer to the marker')
      raw.close()
    } finally {
      writer?.destroy()
      await s.stop()
    }
    assert.equal((await readStored(dataDir, 'kept')).text, 'truth')
    removeDir(dataDir)
  })
})
