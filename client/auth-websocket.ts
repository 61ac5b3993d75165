import { type AuthScope, decodeAuthReply, encodeAuthToken } from './auth-frame.js'
import { authFailureCodes } from './reconnect-policy.js'

/** A token, or a function that yields one; called on every connect so an expired token is refreshed. */
export type TokenSource = string | (() => string | null | undefined | Promise<string | null | undefined>)

/**
 * Why the server refused a socket: 4401 bad or expired token, 4403 no access to this room. Not the server's
 * `AuthError` (a class an `authenticate` hook throws): this is the refusal as the client sees it.
 */
export interface AuthRefused {
  code: number
  reason: string
}

/** The event shapes the wrapper relies on; both the browser's WebSocket and Node's `ws` provide them. */
export interface MessageEventLike {
  data: unknown
}
export interface CloseEventLike {
  code: number
  reason: string
}

/**
 * The part of a WebSocket the wrapper uses. Handler parameters are `never` because the browser and `ws` type
 * their event classes differently; the wrapper only assigns handlers, with parameters it narrows itself.
 */
export interface BaseWebSocket {
  binaryType: string
  readonly readyState: number
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  onopen: ((event: never) => void) | null
  onmessage: ((event: never) => void) | null
  onclose: ((event: never) => void) | null
  onerror: ((event: never) => void) | null
}

export type BaseWebSocketClass = new (url: string, protocols?: string | string[]) => BaseWebSocket

export interface AuthWebSocketOptions {
  /** Omit (or yield null) for an open-mode server: then no auth frame is sent. */
  token?: TokenSource
  /** The WebSocket class to wrap: Node's `ws` in Node; defaults to the global (browser) WebSocket. */
  WebSocket?: BaseWebSocketClass
  /** The server admitted the socket with this scope (sent on every successful connect). */
  onAuthenticated?: (scope: AuthScope) => void
  /** The server refused the token (4401) or the room (4403); the provider will not reconnect by itself. */
  onAuthError?: (refusal: AuthRefused) => void
  /** The token function threw; the socket is closed and the provider retries with backoff. */
  onTokenError?: (error: unknown) => void
}

const CONNECTING = 0
const OPEN = 1
const CLOSING = 2
const CLOSED = 3
/** A private-use close code for "the token could not be obtained": transient, so the provider retries. */
const tokenUnavailableCode = 4000

function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (data instanceof Uint8Array) return data
  return null
}

/**
 * Returns a WebSocket class for `new WebsocketProvider(url, room, doc, { WebSocketPolyfill })` that sends
 * the plait auth frame `[2][0][token]` first on every connection, and only then reports the socket as open
 * (the provider sends sync step 1 in `onopen`, so the token always precedes it).
 */
export function createAuthWebSocket(options: AuthWebSocketOptions = {}): typeof WebSocket {
  const GivenBase = options.WebSocket ?? (globalThis.WebSocket as unknown as BaseWebSocketClass | undefined)
  if (GivenBase === undefined)
    throw new Error('no WebSocket class: pass options.WebSocket (e.g. the ws package)')
  const Base: BaseWebSocketClass = GivenBase

  /** The token now when it is at hand (string, none, or a sync function), so the socket opens without delay. */
  function readToken(): string | null | Promise<string | null | undefined> {
    const source = options.token
    if (source === undefined) return null
    const token = typeof source === 'string' ? source : source()
    return token instanceof Promise ? token : (token ?? null)
  }

  class AuthWebSocket {
    static readonly CONNECTING = CONNECTING
    static readonly OPEN = OPEN
    static readonly CLOSING = CLOSING
    static readonly CLOSED = CLOSED
    readonly CONNECTING = CONNECTING
    readonly OPEN = OPEN
    readonly CLOSING = CLOSING
    readonly CLOSED = CLOSED

    readonly url: string
    onopen: ((event: unknown) => void) | null = null
    onmessage: ((event: MessageEventLike) => void) | null = null
    onclose: ((event: CloseEventLike) => void) | null = null
    onerror: ((event: unknown) => void) | null = null

    private readonly socket: BaseWebSocket
    /** True once the token frame (if any) is sent and `onopen` has been called. */
    private admittedToSend = false
    /** The reason from a permission-denied frame, shown with the close that follows it. */
    private deniedReason: string | null = null
    /**
     * Frames that arrived before `onopen` (an open-mode server speaks first; a slow token function delays
     * `onopen`), handed to the provider in order right after it, as if they had arrived then.
     */
    private early: MessageEventLike[] = []

    constructor(url: string, protocols?: string | string[]) {
      this.url = url
      this.socket = new Base(url, protocols)
      this.socket.binaryType = 'arraybuffer'
      this.socket.onopen = (event: unknown) => this.sendTokenThenOpen(event)
      this.socket.onmessage = (event: MessageEventLike) => {
        this.readVerdict(event.data)
        if (this.admittedToSend) this.onmessage?.(event)
        else this.early.push(event)
      }
      this.socket.onerror = (event: unknown) => {
        this.onerror?.(event)
      }
      this.socket.onclose = (event: CloseEventLike) => {
        if (authFailureCodes.has(event.code)) {
          options.onAuthError?.({ code: event.code, reason: this.deniedReason ?? event.reason })
        }
        this.onclose?.(event)
      }
    }

    get binaryType(): string {
      return this.socket.binaryType
    }

    set binaryType(value: string) {
      this.socket.binaryType = value
    }

    /** CONNECTING until the token is sent, so nothing else can be sent ahead of it. */
    get readyState(): number {
      const state = this.socket.readyState
      return state === OPEN && !this.admittedToSend ? CONNECTING : state
    }

    send(data: Uint8Array): void {
      if (!this.admittedToSend) throw new Error('AuthWebSocket: send before open')
      this.socket.send(data)
    }

    close(code?: number, reason?: string): void {
      this.socket.close(code, reason)
    }

    private sendTokenThenOpen(event: unknown): void {
      let token: ReturnType<typeof readToken>
      try {
        token = readToken()
      } catch (error) {
        this.tokenFailed(error)
        return
      }
      if (token instanceof Promise) {
        token.then(
          (value) => this.open(event, value ?? null),
          (error: unknown) => this.tokenFailed(error),
        )
      } else {
        this.open(event, token)
      }
    }

    private open(event: unknown, token: string | null): void {
      // the socket may have closed while the token was being fetched
      if (this.socket.readyState !== OPEN) return
      if (token !== null) this.socket.send(encodeAuthToken(token))
      this.admittedToSend = true
      this.onopen?.(event)
      const early = this.early
      this.early = []
      for (const message of early) this.onmessage?.(message)
    }

    private tokenFailed(error: unknown): void {
      options.onTokenError?.(error)
      if (this.socket.readyState === OPEN) this.socket.close(tokenUnavailableCode, 'token unavailable')
    }

    private readVerdict(data: unknown): void {
      const bytes = toBytes(data)
      if (bytes === null) return
      const reply = decodeAuthReply(bytes)
      if (reply === null) return
      if (reply.kind === 'granted') options.onAuthenticated?.(reply.scope)
      else this.deniedReason = reply.reason
    }
  }

  // y-websocket types its option as the DOM WebSocket class; the wrapper provides the part the provider uses.
  return AuthWebSocket as unknown as typeof WebSocket
}
