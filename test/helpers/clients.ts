// Clients for tests: stock y-websocket providers, and raw sockets that speak the contract frame by frame.
import { request } from 'node:http'
import * as decoding from 'lib0/decoding'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { MessageType } from '../../server/protocol/messages.js'

/** Polls until `condition` is true; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface TestProvider {
  doc: Y.Doc
  provider: WebsocketProvider
  text: Y.Text
  destroy(): void
}

/** A stock y-websocket v3 provider in Node, as a user would create one. */
export function connectProvider(
  url: string,
  room: string,
  options: { doc?: Y.Doc; WebSocketPolyfill?: unknown; connect?: boolean } = {},
): TestProvider {
  const doc = options.doc ?? new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, {
    // y-websocket types its polyfill as the DOM WebSocket; the ws class is API-compatible.
    WebSocketPolyfill: (options.WebSocketPolyfill ?? WebSocket) as unknown as typeof globalThis.WebSocket,
    connect: options.connect ?? true,
    disableBc: true,
  })
  return {
    doc,
    provider,
    text: doc.getText('t'),
    destroy: () => {
      provider.destroy()
      doc.destroy()
    },
  }
}

export async function synced(...clients: TestProvider[]): Promise<void> {
  await waitFor(() => clients.every((c) => c.provider.synced), 'providers to sync')
}

/** One decoded server frame: [type, sub?] and the raw bytes. */
export interface ReceivedFrame {
  type: number
  sub: number | null
  payload: Uint8Array | null
  bytes: Uint8Array
}

/**
 * Splits a server frame without judging it (tests look at frames the server should not have sent, too):
 * an auth frame's payload is everything after its sub-type. decodeServerMessage is the strict reading.
 */
export function parseServerFrame(bytes: Uint8Array): ReceivedFrame {
  const decoder = decoding.createDecoder(bytes)
  const type = decoding.readVarUint(decoder)
  if (type === MessageType.sync) {
    const sub = decoding.readVarUint(decoder)
    return { type, sub, payload: decoding.readVarUint8Array(decoder), bytes }
  }
  if (type === MessageType.awareness)
    return { type, sub: null, payload: decoding.readVarUint8Array(decoder), bytes }
  if (type === MessageType.auth) {
    const sub = decoding.readVarUint(decoder)
    return { type, sub, payload: decoding.readTailAsUint8Array(decoder), bytes }
  }
  return { type, sub: null, payload: null, bytes }
}

/** A raw WebSocket client that records every frame and the close code. */
export class RawClient {
  readonly frames: ReceivedFrame[] = []
  closeCode: number | null = null
  closeReason = ''
  readonly ws: WebSocket
  readonly opened: Promise<void>
  readonly closed: Promise<number>

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options)
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('error', reject)
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    })
    this.opened.catch(() => {})
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeCode = code
        this.closeReason = reason.toString()
        resolve(code)
      })
    })
    this.ws.on('error', () => {})
    this.ws.on('message', (data: Buffer) => {
      this.frames.push(parseServerFrame(new Uint8Array(data)))
    })
  }

  send(frame: Uint8Array | string): void {
    this.ws.send(frame)
  }

  framesOf(type: number, sub: number | null = null): ReceivedFrame[] {
    return this.frames.filter((f) => f.type === type && (sub === null || f.sub === sub))
  }

  close(): void {
    this.ws.terminate()
  }
}

/** The HTTP status of a WebSocket upgrade attempt on `path`. */
export function upgradeStatus(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    })
    req.on('upgrade', (_res, socket) => {
      socket.destroy()
      resolve(101)
    })
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

/** The Yjs update that `change` makes to `doc`: what a client would send for that edit. */
export function updateOf(doc: Y.Doc, change: () => void): Uint8Array {
  const before = Y.encodeStateVector(doc)
  change()
  return Y.encodeStateAsUpdate(doc, before)
}

/** Polls an async condition (an HTTP probe, a scrape) until it holds; fails with `what` after `timeoutMs`. */
export async function waitForAsync(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** One series of /metrics as a number (`name` may carry labels, e.g. `x{code="1000"}`); 0 when absent,
 * as Prometheus reads a labelled counter that has not been bumped yet. */
export async function metric(http: string, name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text()
  const escaped = name.replace(/[{}"+.]/g, (c) => `\\${c}`)
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)
  return match ? Number(match[1]) : 0
}

export interface RoomStatus {
  room: string
  exists: boolean
  loaded: boolean
  clients: number
}

/** What GET /api/rooms/:room says about a room (open mode, or with `token` as the bearer). */
export async function roomStatus(http: string, room: string, token?: string): Promise<RoomStatus> {
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {}
  const response = await fetch(`${http}/api/rooms/${encodeURIComponent(room)}`, { headers })
  if (response.status !== 200) throw new Error(`GET /api/rooms/${room}: HTTP ${response.status}`)
  return (await response.json()) as RoomStatus
}

/** The room's document as the server holds it, through GET /api/rooms/:room/state (null: 404). */
export async function roomState(http: string, room: string, token?: string): Promise<Y.Doc | null> {
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {}
  const response = await fetch(`${http}/api/rooms/${encodeURIComponent(room)}/state`, { headers })
  if (response.status === 404) return null
  if (response.status !== 200) throw new Error(`GET /api/rooms/${room}/state: HTTP ${response.status}`)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, new Uint8Array(await response.arrayBuffer()))
  return doc
}
