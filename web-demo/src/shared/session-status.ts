import type { AuthRefused, AuthScope } from '../../../client/index.js'
import type { CollabSession } from './collab-session.js'

export type ConnectionState = 'connecting' | 'syncing' | 'connected' | 'offline' | 'denied'

/** What the status badge shows: the connection and how many local edits the server has not confirmed. */
export interface SessionStatus {
  connection: ConnectionState
  unsynced: number
  scope: AuthScope
  authError: AuthRefused | null
}

/**
 * Folds provider events into one status. Once a connection is lost the page stays "offline" through the
 * provider's retry attempts (connecting → disconnected → …) until a socket opens again, so the badge does
 * not flicker.
 */
export class SessionStatusTracker {
  private hasBeenOffline = false
  private scope: AuthScope = 'read-write'
  private authError: AuthRefused | null = null
  private readonly listeners = new Set<(status: SessionStatus) => void>()

  constructor(private readonly session: CollabSession) {
    session.provider.on('status', ({ status }) => {
      if (status === 'connected') this.hasBeenOffline = false
      this.changed()
    })
    // a failed attempt emits no 'disconnected' status (it never connected), only a connection-close
    session.provider.on('connection-close', () => {
      this.hasBeenOffline = true
      this.changed()
    })
    session.unsynced.onChange(() => this.changed())
    window.addEventListener('online', () => this.changed())
    window.addEventListener('offline', () => this.changed())
  }

  get current(): SessionStatus {
    const { provider, unsynced } = this.session
    let connection: ConnectionState
    if (this.authError !== null) connection = 'denied'
    else if (provider.wsconnected) connection = unsynced.handshaking ? 'syncing' : 'connected'
    else if (this.hasBeenOffline || !navigator.onLine) connection = 'offline'
    else connection = 'connecting'
    return { connection, unsynced: unsynced.count, scope: this.scope, authError: this.authError }
  }

  setScope(scope: AuthScope): void {
    this.scope = scope
    this.authError = null
    this.changed()
  }

  setAuthError(error: AuthRefused | null): void {
    this.authError = error
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
