import type { AuthRefused } from '../../../client/index.js'
import { Closes } from '../../../server/protocol/close-codes.js'
import { askForToken, loadSavedToken, saveToken } from './auth-dialog.js'
import { copyText } from './clipboard.js'
import { type CollabSession, openSession } from './collab-session.js'
import { type Identity, loadIdentity, renameIdentity } from './identity.js'
import { mountPresenceList } from './presence-list.js'
import { newRoomName, readRoomLink, roomLinkUrl, showRoomInAddressBar } from './room-link.js'
import { fetchServerInfo } from './server-info.js'
import { SessionStatusTracker } from './session-status.js'
import { renderStatusBadge } from './status-badge.js'
import { showToast } from './toast.js'

export interface PageOptions {
  /** The room opened when the URL names none, so two windows on the bare URL meet. */
  defaultRoom: string
  /** Prefix of rooms made with "New room", e.g. `notes` → `notes-k3f9qz`. */
  roomPrefix: string
  /** The directory the demo is served from (the editor's directory). */
  appBase: URL
}

export interface Page {
  session: CollabSession
  status: SessionStatusTracker
  identity: () => Identity
}

function element<T extends HTMLElement>(selector: string): T {
  const found = document.querySelector<T>(selector)
  if (found === null) throw new Error(`page is missing ${selector}`)
  return found
}

function registerOfflineShell(appBase: URL): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return
  navigator.serviceWorker.register(new URL('sw.js', appBase), { scope: appBase.pathname }).catch(() => {
    // without it the page still works online; only reloads while the server is down fail
  })
}

function refusal(error: AuthRefused, room: string): { title: string; message: string } {
  if (error.code === Closes.forbidden) {
    return {
      title: 'No access to this room',
      message: `Your token does not give access to “${room}”. Paste a token for this room, or open another room.`,
    }
  }
  return {
    title: 'Your token was not accepted',
    message: `The server said: ${error.reason || 'bad or expired token'}. Paste a valid token to continue.`,
  }
}

function mountRoomControls(room: string, roomPrefix: string): void {
  element('#room-name').textContent = room
  // the room first, so tabs of several rooms can be told apart
  document.title = `${room} · ${document.title}`
  element('#copy-link').addEventListener('click', async () => {
    const copied = await copyText(roomLinkUrl(room))
    showToast(copied ? 'Link copied — send it to someone to edit together' : roomLinkUrl(room))
  })
  element('#new-room').addEventListener('click', async () => {
    const next = newRoomName(roomPrefix)
    const copied = await copyText(roomLinkUrl(next))
    sessionStorage.setItem('plait:toast', copied ? `New room “${next}” — link copied` : `New room “${next}”`)
    location.hash = `room=${encodeURIComponent(next)}`
  })
  // a different room is a different document: start the page afresh
  window.addEventListener('hashchange', () => location.reload())
  const pending = sessionStorage.getItem('plait:toast')
  if (pending !== null) {
    sessionStorage.removeItem('plait:toast')
    showToast(pending)
  }
}

/** What every demo page has before it opens a connection: its room, your identity and a token if needed. */
export interface PageChrome {
  room: string
  identity: () => Identity
  /** The token to connect with; null on a server without auth. */
  token: () => string | null
  /** Asks for another token after the server refused one, and keeps it. */
  askForNewToken: (title: string, message: string) => Promise<string>
  /** Called with the new identity when you change your name. */
  onRename: (listener: (identity: Identity) => void) => void
  badge: HTMLElement
  detailLine: HTMLElement
}

/** The room bar, tabs, name field and token dialog, shared by every page whatever provider it uses. */
export async function startPageChrome(options: PageOptions): Promise<PageChrome> {
  registerOfflineShell(options.appBase)
  for (const tab of document.querySelectorAll<HTMLElement>('.tabs a')) {
    if (document.body.classList.contains(`page-${tab.dataset.tab}`)) tab.setAttribute('aria-current', 'page')
  }
  const link = readRoomLink(options.defaultRoom)
  if (link.token !== null) saveToken(link.token)
  showRoomInAddressBar(link.room)
  mountRoomControls(link.room, options.roomPrefix)

  let identity = loadIdentity()
  const nameInput = element<HTMLInputElement>('#your-name')
  nameInput.value = identity.name
  const renameListeners: ((identity: Identity) => void)[] = []
  nameInput.addEventListener('change', () => {
    identity = renameIdentity(identity, nameInput.value)
    nameInput.value = identity.name
    for (const listener of renameListeners) listener(identity)
  })

  const info = await fetchServerInfo(options.appBase)
  let token = info.auth === 'token' ? (link.token ?? loadSavedToken()) : null
  const badge = element('#status')
  if (info.auth === 'token' && token === null) {
    badge.dataset.tone = 'warning'
    const label = badge.querySelector('.status-label')
    if (label) label.textContent = 'Token needed'
    token = await askForToken(
      'This server needs an access token',
      `Paste your token to open “${link.room}”. Whoever runs this plait server can issue one.`,
    )
    saveToken(token)
  }
  return {
    room: link.room,
    identity: () => identity,
    token: () => token,
    askForNewToken: async (title, message) => {
      token = await askForToken(title, message)
      saveToken(token)
      return token
    },
    onRename: (listener) => renameListeners.push(listener),
    badge,
    detailLine: element('#status-detail'),
  }
}

/** Everything the editor and the whiteboard share: room, token, identity, connection, badge, presence. */
export async function startPage(options: PageOptions): Promise<Page> {
  const chrome = await startPageChrome(options)
  let status: SessionStatusTracker | null = null
  const session = await openSession({
    room: chrome.room,
    appBase: options.appBase,
    identity: chrome.identity(),
    token: chrome.token,
    onAuthenticated: (scope) => status?.setScope(scope),
    onAuthError: async (error) => {
      status?.setAuthError(error)
      const { title, message } = refusal(error, chrome.room)
      await chrome.askForNewToken(title, message)
      status?.setAuthError(null)
      session.provider.connect()
    },
  })
  status = new SessionStatusTracker(session)
  status.subscribe((current) => renderStatusBadge(chrome.badge, chrome.detailLine, current))
  mountPresenceList(element('#presence'), session.awareness)
  chrome.onRename((identity) => session.awareness.setLocalStateField('user', identity))
  return { session, status, identity: chrome.identity }
}
