import { HocuspocusProvider, WebSocketStatus } from '@hocuspocus/provider'
import { IndexeddbPersistence } from 'y-indexeddb'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { AuthScope } from '../../../client/index.js'
import { webSocketBase } from '../shared/collab-session.js'
import type { Identity } from '../shared/identity.js'
import type { ConnectionState, SessionStatus } from '../shared/session-status.js'

/** One rich-text document over the Hocuspocus provider: its local copy, the provider and its status. */
export interface HocuspocusSession {
  doc: Y.Doc
  provider: HocuspocusProvider
  awareness: Awareness
  status: HocuspocusStatus
}

export interface HocuspocusSessionOptions {
  room: string
  appBase: URL
  identity: Identity
  token: () => string | null
  /** The server refused the token; resolve once there is a new one to try. */
  onAuthError: (reason: string) => Promise<void>
}

const indexedDbWait = 2000

export async function openHocuspocusSession(options: HocuspocusSessionOptions): Promise<HocuspocusSession> {
  const doc = new Y.Doc()
  // the same local copy as the notes page keeps for this room: it is the same document on the server
  const local = new IndexeddbPersistence(`plait:${options.room}`, doc)
  await Promise.race([local.whenSynced, new Promise((resolve) => setTimeout(resolve, indexedDbWait))])

  // The base URL, no room in the path: that is how plait tells a Hocuspocus socket from a y-websocket one.
  const provider = new HocuspocusProvider({
    url: webSocketBase(options.appBase),
    name: options.room,
    document: doc,
    // a function, so a reconnect after a refused token sends the new one
    token: () => options.token() ?? '',
  })
  const awareness = provider.awareness
  if (awareness === null) throw new Error('the provider has no awareness')
  awareness.setLocalStateField('user', options.identity)
  const status = new HocuspocusStatus(provider)
  let asking = false
  provider.on('authenticationFailed', async ({ reason }: { reason: string }) => {
    // one dialog at a time, however many refusals arrive while it is open
    if (asking) return
    asking = true
    status.setAuthError(reason)
    await options.onAuthError(reason)
    asking = false
    status.setAuthError(null)
    // plait refuses the document, not the socket: open it again on the same socket with the new token
    await provider.sendToken()
    provider.startSync()
  })
  return { doc, provider, awareness, status }
}

/**
 * Folds the provider's events into the status the badge shows. "Saved" is the provider's own count: plait
 * acknowledges a change (the sync-status message) only once it is durable, so zero unsynced means stored.
 */
export class HocuspocusStatus {
  private socket: WebSocketStatus = WebSocketStatus.Connecting
  private hasBeenOffline = false
  private authError: string | null = null
  private readonly listeners = new Set<(status: SessionStatus) => void>()

  constructor(private readonly provider: HocuspocusProvider) {
    provider.on('status', ({ status }: { status: WebSocketStatus }) => {
      this.socket = status
      if (status === WebSocketStatus.Connected) this.hasBeenOffline = false
      if (status === WebSocketStatus.Disconnected) this.hasBeenOffline = true
      this.changed()
    })
    for (const event of ['synced', 'unsyncedChanges', 'authenticated'])
      provider.on(event, () => this.changed())
    window.addEventListener('online', () => this.changed())
    window.addEventListener('offline', () => this.changed())
  }

  get current(): SessionStatus {
    const { provider } = this
    let connection: ConnectionState
    if (this.authError !== null) connection = 'denied'
    else if (this.socket === WebSocketStatus.Connected) connection = provider.synced ? 'connected' : 'syncing'
    else if (this.hasBeenOffline || !navigator.onLine) connection = 'offline'
    else connection = 'connecting'
    const scope: AuthScope = provider.authorizedScope === 'readonly' ? 'readonly' : 'read-write'
    return {
      connection,
      unsynced: provider.unsyncedChanges,
      scope,
      authError: this.authError === null ? null : { code: 0, reason: this.authError },
    }
  }

  setAuthError(reason: string | null): void {
    this.authError = reason
    this.changed()
  }

  subscribe(listener: (status: SessionStatus) => void): void {
    this.listeners.add(listener)
    listener(this.current)
  }

  private changed(): void {
    const status = this.current
    for (const listener of this.listeners) listener(status)
  }
}
