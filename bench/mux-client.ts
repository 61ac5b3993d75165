// One socket carrying several documents in Hocuspocus' framing (what a notes app with many open notes
// and one HocuspocusProviderWebsocket does): every frame starts with varString(documentName); each
// document sends its token, then its sync step 1, and counts as synced at the server's sync step 2.
// Idle only: it answers the server's step 1 with an empty document and reads nothing else.
import WebSocket from 'ws'
import { SyncSub } from '../server/protocol/messages.js'
import { encodeAuthToken, encodeSync, type Framing, syncFrameHead } from './protocol.js'

/** A Yjs update with no structs and no deletes: an empty document's state. */
const emptyUpdate = new Uint8Array([0, 0])
/** The state vector of an empty document. */
const emptyStateVector = new Uint8Array([0])

/** The document name a frame starts with (its varString), or null when malformed. */
function documentOf(frame: Buffer): string | null {
  let length = 0
  let shift = 1
  let pos = 0
  for (;;) {
    if (pos >= frame.length || shift > 2 ** 28) return null
    const b = frame[pos++]
    length += (b & 0x7f) * shift
    if (b < 0x80) break
    shift *= 128
  }
  return pos + length <= frame.length ? frame.toString('utf8', pos, pos + length) : null
}

export class MuxClient {
  closeCode: number | null = null
  /** Milliseconds from opening the socket until its last document was synced, NaN until then. */
  syncMillis = Number.NaN
  private ws: WebSocket | null = null
  private readonly framings: Map<string, Framing>
  private readonly pending: Set<string>

  constructor(
    private readonly url: string,
    readonly documents: readonly string[],
    private readonly token: string,
  ) {
    this.framings = new Map(documents.map((d) => [d, { prefix: d }]))
    this.pending = new Set(documents)
  }

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN
  }

  /** Opens the socket, attaches every document, resolves once all are synced. */
  connect(timeoutMs = 30_000): Promise<void> {
    const startedAt = performance.now()
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false, handshakeTimeout: timeoutMs })
      this.ws = ws
      let settled = false
      const timer = setTimeout(
        () =>
          fail(
            new Error(
              `${this.pending.size} of ${this.documents.length} documents not synced in ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      )
      const fail = (err: Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        ws.terminate()
        reject(err)
      }
      ws.on('error', fail)
      ws.on('close', (code) => {
        this.closeCode = code
        fail(new Error(`closed with ${code} before every document synced`))
      })
      ws.on('open', () => {
        for (const framing of this.framings.values()) {
          ws.send(encodeAuthToken(framing, this.token))
          ws.send(encodeSync(framing, SyncSub.step1, emptyStateVector))
        }
      })
      ws.on('message', (data: Buffer) => {
        const name = documentOf(data)
        const framing = name === null ? undefined : this.framings.get(name)
        if (name === null || framing === undefined) return
        const head = syncFrameHead(framing, data)
        if (head === -1) return
        const sub = head & 3
        if (sub === SyncSub.step1) ws.send(encodeSync(framing, SyncSub.step2, emptyUpdate))
        else if (sub === SyncSub.step2 && this.pending.delete(name) && this.pending.size === 0 && !settled) {
          settled = true
          clearTimeout(timer)
          this.syncMillis = performance.now() - startedAt
          resolve()
        }
      })
    })
  }

  terminate(): void {
    this.ws?.terminate()
  }
}

/** Connects mux clients with at most `concurrency` handshakes in flight; rejects on the first failure. */
export async function connectMux(clients: MuxClient[], concurrency = 32): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < clients.length) await clients[next++].connect()
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, worker))
}
