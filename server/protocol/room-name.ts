// Room names from upgrade URLs: the path after an optional prefix, percent-decoded, without the query.
// Pure (no Node APIs): the server and the browser demo share this one rule.
export const MAX_ROOM_NAME_BYTES = 256

// C0 and C1 control characters and DEL.
const CONTROL = /\p{Cc}/u
// TextEncoder rather than Node's Buffer: the demo and client/ run this rule in browsers too.
const utf8 = new TextEncoder()

export type RoomNameResult = { ok: true; room: string; query: string } | { ok: false; reason: string }

/** Parses the request target of an upgrade (e.g. "/team/notes%202026?x=1") into a room name. */
export function parseRoomName(target: string, pathPrefix: string): RoomNameResult {
  const queryStart = target.indexOf('?')
  const path = queryStart === -1 ? target : target.slice(0, queryStart)
  const query = queryStart === -1 ? '' : target.slice(queryStart + 1)
  const prefix = `${pathPrefix}/`
  if (!path.startsWith(prefix)) return { ok: false, reason: `the room path must start with ${prefix}` }
  let room: string
  try {
    room = decodeURIComponent(path.slice(prefix.length))
  } catch {
    return { ok: false, reason: 'the room name is not valid percent-encoded UTF-8' }
  }
  const invalid = roomNameProblem(room)
  return invalid === null ? { ok: true, room, query } : { ok: false, reason: invalid }
}

export type UpgradeTarget =
  | { ok: true; protocol: 'y-websocket'; room: string; query: string }
  | { ok: true; protocol: 'hocuspocus'; query: string }
  | { ok: false; reason: string }

/**
 * Which framing a socket speaks, from its upgrade target: the server's base URL (the prefix alone, with or
 * without a trailing /) carries Hocuspocus frames, which name their document; any longer path names a
 * room and carries y-websocket frames.
 */
export function parseUpgradeTarget(target: string, pathPrefix: string): UpgradeTarget {
  const queryStart = target.indexOf('?')
  const path = queryStart === -1 ? target : target.slice(0, queryStart)
  if (path === pathPrefix || path === `${pathPrefix}/`)
    return { ok: true, protocol: 'hocuspocus', query: queryStart === -1 ? '' : target.slice(queryStart + 1) }
  const parsed = parseRoomName(target, pathPrefix)
  return parsed.ok ? { ...parsed, protocol: 'y-websocket' } : parsed
}

/** Why a decoded room name is not allowed, or null when it is (1..256 bytes of UTF-8, no control characters). */
export function roomNameProblem(room: string): string | null {
  if (room.length === 0) return 'the room name is empty'
  // a UTF-16 unit is at least one UTF-8 byte, so a long string is refused without encoding it
  if (room.length > MAX_ROOM_NAME_BYTES || utf8.encode(room).byteLength > MAX_ROOM_NAME_BYTES)
    return `the room name is longer than ${MAX_ROOM_NAME_BYTES} bytes`
  if (CONTROL.test(room)) return 'the room name contains control characters'
  return null
}
