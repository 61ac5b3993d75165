import { roomNameProblem } from '../../../server/protocol/room-name.js'

/** The room (and optionally a token) named in the page's URL fragment: `#room=notes-42&token=…`. */
export interface RoomLink {
  room: string
  token: string | null
}

/**
 * Whether the server will accept this room name: its own rule (server/protocol/room-name.ts), so a link the
 * server would refuse falls back to the default room instead of a page that can never connect.
 */
export function isValidRoomName(room: string): boolean {
  return roomNameProblem(room) === null
}

export function readRoomLink(defaultRoom: string, hash: string = location.hash): RoomLink {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const room = params.get('room')
  const token = params.get('token')
  return {
    room: room !== null && isValidRoomName(room) ? room : defaultRoom,
    token: token !== null && token.length > 0 ? token : null,
  }
}

/** Puts the room in the address bar and drops any token, so a copied link never carries a credential. */
export function showRoomInAddressBar(room: string): void {
  history.replaceState(null, '', `#room=${encodeURIComponent(room)}`)
}

export function roomLinkUrl(room: string): string {
  const url = new URL(location.href)
  url.hash = `room=${encodeURIComponent(room)}`
  return url.toString()
}

/** A fresh, unguessable-enough room name such as `notes-k3f9qz`. */
export function newRoomName(prefix: string): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789'
  const bytes = crypto.getRandomValues(new Uint8Array(8))
  let suffix = ''
  for (const byte of bytes) suffix += alphabet[byte % alphabet.length]
  return `${prefix}-${suffix}`
}

/** The room as a URL path: each segment percent-encoded, `/` kept (rooms may contain it). */
export function roomPath(room: string): string {
  return room.split('/').map(encodeURIComponent).join('/')
}
