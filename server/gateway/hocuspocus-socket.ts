// One socket speaking the Hocuspocus framing: a transport for any number of documents (Hocuspocus'
// ClientConnection; each document on it is a HocuspocusDocument, its Connection). The socket owns what is
// per socket: the read rate and pauses (ReadGate), the heartbeat flag, the bound on documents and on
// frames queued before their verdicts, slow-reader closing, and the close itself. A malformed frame
// closes this socket only.
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { AuthVerdict } from '../auth/verdict.js'
import type { DocumentEvents } from '../documents/events.js'
import type { Room } from '../documents/room.js'
import type { Metrics } from '../http/metrics.js'
import type { Logger } from '../logger.js'
import { Closes } from '../protocol/close-codes.js'
import {
  decodeHocuspocusFrame,
  documentOfKey,
  encodeDocumentName,
  encodeHocuspocusPermissionDenied,
  type HocuspocusClientMessage,
  withDocumentName,
} from '../protocol/hocuspocus.js'
import { ProtocolError } from '../protocol/messages.js'
import { roomNameProblem } from '../protocol/room-name.js'
import { HocuspocusDocument } from './hocuspocus-document.js'
import type { RateLimits } from './rate-budget.js'
import { SocketBase } from './socket-base.js'
import { encodeBinaryFrame } from './ws-frame.js'

/** What a Hocuspocus socket and its documents need from the gateway; shared by all of them. */
export interface HocuspocusContext {
  readonly metrics: Metrics
  readonly limits: {
    maxBufferedBytes: number
    preAuthMaxFrames: number
    preAuthMaxBytes: number
    maxClientsPerRoom: number
    authTimeoutMs: number
    maxDocumentsPerSocket: number
  }
  readonly rate: RateLimits
  /** The verdict on a token for one document; null when auth is off. */
  readonly verify: ((token: string, room: string, request: IncomingMessage) => Promise<AuthVerdict>) | null
  readonly events: DocumentEvents
  readonly log: Logger
  acquireRoom(name: string): Room | null
  onClosed(socket: HocuspocusSocket, code: number, reason: string): void
  logError(fields: { room?: string; conn: number }, error: unknown): string
}

// 'authenticating' until a first document is admitted (the gateway closes it with 4408 past the auth
// timeout); 'draining': closed for a restart, what the client sent before it saw the close still counts.
type SocketState = 'authenticating' | 'open' | 'draining' | 'closing' | 'closed'

// A broadcast sends one message to every member of one room in one loop: its Hocuspocus frame (document
// name, message, WebSocket header) is built once for all of them, in a slot of its own so the y-websocket
// members of the same room keep theirs (ws-frame.ts).
let sharedName: string | null = null
let sharedMessage: Uint8Array | null = null
let sharedWire: Buffer | null = null
const forgetShared = () => {
  sharedName = null
  sharedMessage = null
  sharedWire = null
}
function sharedDocumentFrame(name: string, prefix: Uint8Array, message: Uint8Array): Buffer {
  if (message !== sharedMessage || name !== sharedName || sharedWire === null) {
    if (sharedMessage === null) queueMicrotask(forgetShared)
    sharedName = name
    sharedMessage = message
    sharedWire = encodeBinaryFrame(withDocumentName(prefix, message))
  }
  return sharedWire
}

export class HocuspocusSocket extends SocketBase<SocketState> {
  readonly protocol = 'hocuspocus'
  /** A Hocuspocus socket has no one room (logs name its documents one by one). */
  readonly roomName = undefined
  state: SocketState
  /** The last user verified on this socket, for its close log line. */
  userId: string | null = null
  private readonly documents = new Map<string, HocuspocusDocument>()
  // Frames the documents hold until their verdicts (or rooms), in all: one bound for the whole socket.
  private queuedFrames = 0
  private queuedBytes = 0
  private holding = false

  constructor(
    ws: WebSocket,
    socket: Duplex,
    readonly ip: string,
    /** The upgrade request, for the auth hook of every document (null without auth). */
    readonly request: IncomingMessage | null,
    private readonly ctx: HocuspocusContext,
  ) {
    super(ws, socket, ctx)
    this.state = ctx.verify === null ? 'open' : 'authenticating'
  }

  /** Documents joined to their rooms, for /metrics. */
  get openDocuments(): number {
    let open = 0
    for (const document of this.documents.values()) if (document.state === 'open') open++
    return open
  }

  receive(data: Uint8Array, isBinary: boolean): void {
    const metrics = this.ctx.metrics
    metrics.framesIn++
    metrics.bytesIn += data.byteLength
    this.awaitingPong = false
    if (this.state === 'closing' || this.state === 'closed') return
    if (this.state !== 'draining') {
      this.gate.spend(data.byteLength)
      if (!isBinary) {
        this.close(Closes.protocolError, 'text frames are not part of the protocol; send binary frames')
        return
      }
    } else if (!isBinary) return
    try {
      const frame = decodeHocuspocusFrame(data)
      if (frame.document !== null) this.route(frame.document, frame.message, data.byteLength)
    } catch (error) {
      this.fail(error)
    }
  }

  private route(key: string, message: HocuspocusClientMessage, bytes: number): void {
    const known = this.documents.get(key)
    if (known !== undefined) {
      if (message.kind === 'close') known.end()
      else known.receive(message, bytes)
      return
    }
    if (message.kind === 'close' || this.state === 'draining') return
    // With auth on, a document starts with its token: before it, nothing of it is read or answered.
    if (this.ctx.verify !== null && message.kind !== 'auth-token') return
    const max = this.ctx.limits.maxDocumentsPerSocket
    const name = documentOfKey(key)
    const problem =
      roomNameProblem(name) ??
      (this.documents.size >= max
        ? `this socket has ${max} documents open (--max-documents-per-socket); close one first`
        : null)
    if (problem !== null) {
      // Answered only for a token (once per attach), so a flood of frames is not answered frame by frame.
      if (message.kind === 'auth-token')
        this.deliver(key, encodeDocumentName(key), encodeHocuspocusPermissionDenied(problem), false)
      return
    }
    const document = new HocuspocusDocument(this, key, name, this.ctx)
    this.documents.set(key, document)
    document.start(message, bytes)
  }

  /** A document was admitted: the socket is past its auth deadline for good. */
  admitted(userId: string): void {
    this.userId = userId
    if (this.state === 'authenticating') this.state = 'open'
  }

  removeDocument(document: HocuspocusDocument): void {
    if (this.documents.get(document.key) === document) this.documents.delete(document.key)
  }

  /** A document queues a frame until it may act; past the socket's bounds the socket is paused, then refused. */
  queued(bytes: number): void {
    this.queuedFrames++
    this.queuedBytes += bytes
    const { preAuthMaxFrames, preAuthMaxBytes } = this.ctx.limits
    if (this.queuedBytes > 2 * preAuthMaxBytes) {
      this.close(Closes.rateLimited, 'too much data before the token was verified; send the token first')
    } else if (
      !this.holding &&
      (this.queuedFrames >= preAuthMaxFrames || this.queuedBytes >= preAuthMaxBytes)
    ) {
      this.holding = true
      this.gate.holdForQueue()
    }
  }

  /** A document took (or dropped) its queued frames. */
  dequeued(frames: number, bytes: number): void {
    this.queuedFrames -= frames
    this.queuedBytes -= bytes
    const { preAuthMaxFrames, preAuthMaxBytes } = this.ctx.limits
    if (this.holding && this.queuedFrames < preAuthMaxFrames && this.queuedBytes < preAuthMaxBytes) {
      this.holding = false
      this.gate.releaseQueue()
    }
  }

  /** Sends one document's message (`prefix` encodes its key); `shared`: one frame for a broadcast. */
  deliver(key: string, prefix: Uint8Array, message: Uint8Array, shared: boolean): void {
    if ((this.state !== 'open' && this.state !== 'authenticating') || !this.writable()) return
    const bytes = prefix.byteLength + message.byteLength
    if (shared) this.write(message, bytes, sharedDocumentFrame(key, prefix, message), false)
    else this.write(withDocumentName(prefix, message), bytes, null, message[0] === 0 && message[1] === 1)
  }

  /** A frame this socket cannot accept, or an error handling it: the socket closes, other sockets carry on. */
  fail(error: unknown): void {
    if (error instanceof ProtocolError) {
      this.close(error.code, error.message)
      return
    }
    const id = this.ctx.logError({ conn: this.id }, error)
    this.close(Closes.internalError, `internal error (error ${id})`)
  }

  protected leave(): void {
    this.endDocuments()
  }

  protected reportClosed(code: number, reason: string): void {
    this.ctx.onClosed(this, code, reason)
  }

  private endDocuments(): void {
    for (const document of [...this.documents.values()]) document.end()
    this.documents.clear()
  }
}
