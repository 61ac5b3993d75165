// One simulated editor: a raw `ws` socket speaking the sync protocol and small Y.Text edits that carry a
// marker. By default it never applies what it receives: it only scans the bytes for markers. A sender's doc
// holds nothing but its own appends, so it keeps just their bytes and writes each append's Yjs update
// directly (update.ts, checked against Yjs at start-up); a client in apply mode keeps a real Y.Doc.
import * as random from 'lib0/random'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { SyncSub, varUintLength, writeVarUint } from '../server/protocol/messages.js'
import { formatMarker, type MarkerSink, maxMarkerLength, scanMarkers, writeMarker } from './marker.js'
import {
  awarenessFrameOffset,
  encodeAuthToken,
  encodeAwareness,
  encodeSync,
  type Framing,
  readSyncPayload,
  syncFrameHead,
} from './protocol.js'
import {
  appendUpdateLength,
  encodeSenderStateAsUpdate,
  encodeSenderStateVector,
  textName,
  writeAppendUpdate,
} from './update.js'

/** Microseconds on the load generator's clock (shared by every client in this process). */
export const nowMicros = (): number => Math.round(performance.now() * 1000)

/** Origin of updates applied from the server, so they are not sent back. */
const remote = Symbol('remote')

export type MarkerListener = (receiver: number, sender: number, seq: number, sentMicros: number) => void
/** A received awareness frame; its update (a varUint8Array) starts at `offset`. */
export type AwarenessListener = (receiver: BenchClient, frame: Buffer, offset: number) => void

export interface ClientOptions {
  id: number
  url: string
  framing: Framing
  /** Sent first as `[2][0][varString token]` (Hocuspocus, plait with auth on); null: no auth message. */
  authToken: string | null
  /** Apply received updates to the local doc (readers that check content), instead of only scanning. */
  apply?: boolean
  onMarker?: MarkerListener
  /** Called for every applied update (apply mode only). */
  onApplied?: () => void
  /** Called for every awareness frame received. */
  onAwareness?: AwarenessListener
}

/** Bytes of `[varString documentName]?[MessageType.sync][SyncSub.update]`, the head of every update frame. */
function updateFrameHead(framing: Framing): Buffer {
  const empty = encodeSync(framing, SyncSub.update, new Uint8Array(0))
  // encodeSync wrote the head, then varUint(0) for the empty payload.
  return Buffer.from(empty.subarray(0, empty.length - 1))
}

export class BenchClient implements MarkerSink {
  readonly id: number
  seq = 0
  framesReceived = 0
  bytesReceived = 0
  /** WebSocket pings the server sent (ws answers each with a pong). */
  pingsReceived = 0
  /** Close code once the socket has closed, null while open. */
  closeCode: number | null = null
  /** Milliseconds from opening the socket to the server's sync step 2, NaN until synced. */
  syncMillis = Number.NaN
  private ws: WebSocket | null = null
  private closed = false
  /** Apply mode: the doc received updates are applied to. Null for senders/scanners. */
  private readonly doc: Y.Doc | null
  /** Yjs client id of this client's own edits (a random uint32, as Y.Doc picks). */
  private readonly yClient: number
  /** This client's own text as bytes (ASCII markers): its Yjs clock is `written`. */
  private own = Buffer.allocUnsafe(256)
  private written = 0
  private readonly frameHead: Buffer
  /** performance.now() in microseconds when the frame being scanned arrived. */
  private receivedAt = 0
  /** Called on a sync step 2 after the first (a round trip in flight). */
  private onStep2: (() => void) | null = null

  constructor(private readonly options: ClientOptions) {
    this.id = options.id
    this.frameHead = updateFrameHead(options.framing)
    if (options.apply) {
      const doc = new Y.Doc()
      this.doc = doc
      this.yClient = doc.clientID
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin !== remote) this.send(encodeSync(this.options.framing, SyncSub.update, update))
      })
    } else {
      this.doc = null
      this.yClient = random.uint32()
    }
  }

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN
  }

  /** The client's Y.Text content: what it applied (apply mode) or what it wrote. */
  textContent(): string {
    return this.doc !== null
      ? this.doc.getText(textName).toString()
      : this.own.toString('latin1', 0, this.written)
  }

  /** Length of textContent(), without building the string. */
  get textLength(): number {
    return this.doc !== null ? this.doc.getText(textName).length : this.written
  }

  /** Opens the socket and resolves once the server's sync step 2 has arrived. */
  connect(timeoutMs = 20_000): Promise<void> {
    const { url, framing } = this.options
    const startedAt = performance.now()
    return new Promise((resolve, reject) => {
      // Binary frames only and no compression: no UTF-8 validation or inflate work on the generator.
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        skipUTF8Validation: true,
        handshakeTimeout: timeoutMs,
      })
      this.ws = ws
      let settled = false
      const timer = setTimeout(
        () => fail(new Error(`client ${this.id}: not synced within ${timeoutMs} ms`)),
        timeoutMs,
      )
      const fail = (err: Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        ws.terminate()
        reject(err)
      }
      ws.on('error', (err) => fail(err))
      ws.on('ping', () => {
        this.pingsReceived++
      })
      ws.on('close', (code) => {
        this.closed = true
        this.closeCode = code
        fail(new Error(`client ${this.id}: closed with ${code} before sync`))
      })
      ws.on('open', () => {
        if (this.options.authToken !== null) ws.send(encodeAuthToken(framing, this.options.authToken))
        const sv =
          this.doc !== null
            ? Y.encodeStateVector(this.doc)
            : encodeSenderStateVector(this.yClient, this.written)
        ws.send(encodeSync(framing, SyncSub.step1, sv))
      })
      ws.on('message', (data: Buffer) => {
        this.receivedAt = performance.now() * 1000
        const synced = this.receive(data)
        if (synced && settled) this.onStep2?.()
        if (synced && !settled) {
          settled = true
          clearTimeout(timer)
          this.syncMillis = performance.now() - startedAt
          resolve()
        }
      })
    })
  }

  /** Handles one frame; returns true when it was the server's sync step 2. */
  private receive(data: Buffer): boolean {
    this.framesReceived++
    this.bytesReceived += data.length
    const head = syncFrameHead(this.options.framing, data)
    if (head === -1) {
      const onAwareness = this.options.onAwareness
      if (onAwareness !== undefined) {
        const offset = awarenessFrameOffset(this.options.framing, data)
        if (offset !== -1) onAwareness(this, data, offset)
      }
      return false
    }
    const sub = head & 3
    const offset = head >>> 2
    if (sub === SyncSub.step1) {
      const sv = readSyncPayload(data, offset)
      const answer =
        this.doc !== null
          ? Y.encodeStateAsUpdate(this.doc, sv)
          : encodeSenderStateAsUpdate(this.yClient, this.textContent(), sv)
      this.send(encodeSync(this.options.framing, SyncSub.step2, answer))
      return false
    }
    if (this.options.onMarker) scanMarkers(data, offset, this)
    if (this.doc !== null) {
      Y.applyUpdate(this.doc, readSyncPayload(data, offset), remote)
      this.options.onApplied?.()
    }
    return sub === SyncSub.step2
  }

  /** MarkerSink: one marker found in the frame being received. */
  marker(sender: number, seq: number, sentMicros: number): void {
    if (sender !== this.id)
      this.options.onMarker?.(this.id, sender, seq, Math.round(this.receivedAt) - sentMicros)
  }

  /** One small edit: appends a marker to the text; the resulting update goes out as one frame. */
  edit(): void {
    this.seq++
    const sentMicros = nowMicros()
    if (this.doc !== null) {
      const text = this.doc.getText(textName)
      text.insert(text.length, formatMarker(this.id, this.seq, sentMicros))
      return
    }
    if (this.own.length - this.written < maxMarkerLength) {
      const bigger = Buffer.allocUnsafe(this.own.length * 2)
      this.own.copy(bigger, 0, 0, this.written)
      this.own = bigger
    }
    const from = this.written
    const to = writeMarker(this.own, from, this.id, this.seq, sentMicros)
    const clock = from
    const updateLength = appendUpdateLength(this.yClient, clock, to - from)
    const head = this.frameHead
    // ws copies (and masks) a Buffer it is given into its own frame, so a fresh pool slice is enough.
    const frame = Buffer.allocUnsafe(head.length + varUintLength(updateLength) + updateLength)
    head.copy(frame, 0)
    const pos = writeVarUint(frame, head.length, updateLength)
    writeAppendUpdate(frame, pos, this.yClient, clock, this.own, from, to)
    this.written = to
    this.send(frame)
  }

  /**
   * From now on reads what arrives and drops it without parsing WebSocket frames: the server's cost is
   * the same (every byte is read from the socket), the generator's is the kernel copy alone. Pings go
   * unanswered and a close frame unseen (a close reads as 1006): for runs shorter than two heartbeats.
   */
  discardFrames(): void {
    const socket = (this.ws as unknown as { _socket?: NodeJS.EventEmitter } | null)?._socket
    if (socket === undefined) return
    socket.removeAllListeners('data')
    socket.on('data', () => {})
  }

  /** Milliseconds for a sync step 1 to be answered with a step 2 (how long the server's loop took to get to it). */
  roundTrip(timeoutMs = 10_000): Promise<number> {
    const startedAt = performance.now()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onStep2 = null
        reject(new Error(`client ${this.id}: no sync step 2 within ${timeoutMs} ms`))
      }, timeoutMs)
      this.onStep2 = () => {
        clearTimeout(timer)
        this.onStep2 = null
        resolve(performance.now() - startedAt)
      }
      this.send(
        encodeSync(this.options.framing, SyncSub.step1, encodeSenderStateVector(this.yClient, this.written)),
      )
    })
  }

  /** Sends an awareness update (y-protocols encoding) as one frame. */
  sendAwareness(update: Uint8Array): void {
    this.send(encodeAwareness(this.options.framing, update))
  }

  private send(frame: Uint8Array): void {
    if (this.ws !== null && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame)
  }

  /** Bytes queued in this socket but not yet written to the kernel. */
  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0
  }

  /** Closes the socket (a clean close, so servers run their disconnect path); resolves when closed or after 2 s. */
  close(): Promise<void> {
    const ws = this.ws
    if (ws === null || this.closed || ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate()
        resolve()
      }, 2000)
      ws.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      ws.close(1000)
    })
  }

  /** Drops the socket without a close handshake. */
  terminate(): void {
    this.ws?.terminate()
    this.doc?.destroy()
  }
}

/** Connects clients with at most `concurrency` handshakes in flight; rejects on the first failure. */
export async function connectAll(
  clients: BenchClient[],
  concurrency = 64,
  timeoutMs = 30_000,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < clients.length) {
      const client = clients[next++]
      await client.connect(timeoutMs)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, worker))
}
