import { IndexeddbPersistence } from 'y-indexeddb'
import type { Awareness } from 'y-protocols/awareness'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import {
  type AuthRefused,
  type AuthScope,
  createAuthWebSocket,
  shouldReconnect,
} from '../../../client/index.js'
import type { Identity } from './identity.js'
import { roomPath } from './room-link.js'
import { UnsyncedEdits } from './unsynced-edits.js'

/** One shared document on this page: its local copy, its connection to plait and what is not yet synced. */
export interface CollabSession {
  room: string
  doc: Y.Doc
  provider: WebsocketProvider
  awareness: Awareness
  unsynced: UnsyncedEdits
}

export interface SessionOptions {
  room: string
  /** The directory the demo is served from; the WebSocket URL and API routes are relative to it. */
  appBase: URL
  identity: Identity
  /** Called on every connect; null sends no token (open-mode server). */
  token: () => string | null
  onAuthenticated: (scope: AuthScope) => void
  onAuthError: (error: AuthRefused) => void
}

const indexedDbWait = 2000

export function webSocketBase(appBase: URL): string {
  const url = new URL(appBase)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.search = ''
  url.hash = ''
  return url.toString()
}

export async function openSession(options: SessionOptions): Promise<CollabSession> {
  const doc = new Y.Doc()
  // the local copy: edits made offline survive a reload and are sent once the server is back
  const localName = `plait:${options.room}`
  const local = new IndexeddbPersistence(localName, doc)
  await Promise.race([local.whenSynced, new Promise((resolve) => setTimeout(resolve, indexedDbWait))])

  const WebSocketPolyfill = createAuthWebSocket({
    token: options.token,
    onAuthenticated: options.onAuthenticated,
    onAuthError: options.onAuthError,
  })
  const provider = new WebsocketProvider(webSocketBase(options.appBase), roomPath(options.room), doc, {
    connect: false,
    WebSocketPolyfill,
    shouldReconnect,
  })
  provider.awareness.setLocalStateField('user', options.identity)
  // installed before connecting so it sees the first exchange
  const unsynced = new UnsyncedEdits(doc, provider, `${localName}:unsynced`)
  provider.connect()
  window.addEventListener('pagehide', () => provider.awareness.setLocalState(null))
  return { room: options.room, doc, provider, awareness: provider.awareness, unsynced }
}
