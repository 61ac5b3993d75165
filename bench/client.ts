// One simulated editor: a raw `ws` socket speaking the sync protocol, its own Y.Doc, small Y.Text edits
// that carry a marker. By default it never applies what it receives: it only scans the bytes for markers.
import WebSocket from 'ws'
import * as Y from 'yjs'
import { formatMarker, scanMarkers } from './marker.js'
import {
  encodeAuthToken,
  encodeSync,
  type Framing,
  messageSync,
  readFrameHead,
  readSyncPayload,
  syncStep1,
  syncStep2,
  syncUpdate,
} from './protocol.js'

/** Microseconds on the load generator's clock (shared by every client in this process). */
export const nowMicros = (): number => Math.round(performance.now() * 1000)

/** Origin of updates applied from the server, so they are not sent back. */
const remote = Symbol('remote')

export type MarkerListener = (receiver: number, sender: number, seq: number, sentMicros: number) => void

export interface ClientOptions {
  id: number
  url: string
  framing: Framing
  /** Send `[2][0][varString token]` first (Hocuspocus). */
  auth: boolean
  /** Apply received updates to the local doc (readers that check content), instead of only scanning. */
  apply?: boolean
  onMarker?: MarkerListener
  /** Called for every applied update (apply mode only). */
  onApplied?: () => void
}

export class BenchClient {
  readonly id: number
  readonly doc = new Y.Doc()
  readonly text = this.doc.getText('bench')
  seq = 0
  framesReceived = 0
  bytesReceived = 0
  /** Close code once the socket has closed, null while open. */
  closeCode: number | null = null
  /** Milliseconds from opening the socket to the server's sync step 2, NaN until synced. */
  syncMillis = Number.NaN
  private ws: WebSocket | null = null
  private closed = false

  constructor(private readonly options: ClientOptions) {
    this.id = options.id
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== remote) this.send(encodeSync(this.options.framing, syncUpdate, update))
    })
  }

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN
  }

  /** Opens the socket and resolves once the server's sync step 2 has arrived. */
  connect(timeoutMs = 20_000): Promise<void> {
    const { url, framing } = this.options
    const startedAt = performance.now()
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs })
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
      ws.on('close', (code) => {
        this.closed = true
        this.closeCode = code
        fail(new Error(`client ${this.id}: closed with ${code} before sync`))
      })
      ws.on('open', () => {
        if (this.options.auth) ws.send(encodeAuthToken(framing, 'bench'))
        ws.send(encodeSync(framing, syncStep1, Y.encodeStateVector(this.doc)))
      })
      ws.on('message', (data: Buffer) => {
        const synced = this.receive(data)
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
    const { framing } = this.options
    const head = readFrameHead(framing, data)
    if (head.type !== messageSync) return false
    if (head.sub === syncStep1) {
      const sv = readSyncPayload(data, head.offset)
      this.send(encodeSync(framing, syncStep2, Y.encodeStateAsUpdate(this.doc, sv)))
      return false
    }
    if (head.sub !== syncStep2 && head.sub !== syncUpdate) return false
    const { onMarker } = this.options
    if (onMarker) {
      const receivedAt = nowMicros()
      scanMarkers(data, head.offset, (sender, seq, sent) => {
        if (sender !== this.id) onMarker(this.id, sender, seq, receivedAt - sent)
      })
    }
    if (this.options.apply) {
      Y.applyUpdate(this.doc, readSyncPayload(data, head.offset), remote)
      this.options.onApplied?.()
    }
    return head.sub === syncStep2
  }

  /** One small edit: appends a marker to the text; the resulting update goes out as one frame. */
  edit(): void {
    this.seq++
    this.text.insert(this.text.length, formatMarker(this.id, this.seq, nowMicros()))
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
    this.doc.destroy()
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
