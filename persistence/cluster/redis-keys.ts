// Where a room lives in Redis. Every key of a room shares one hash tag, so in a Redis Cluster they sit in
// one slot and a script may touch them together. The tag is the room name in base64url: a raw name may
// hold `{` or `}`, which would change what Redis hashes (and `{}` hashes the whole key, splitting a room).

export interface RoomKeys {
  /** The next position's predecessor: INCRBY gives each appended entry its position. */
  readonly counter: string
  /** The room's log since its snapshot: entry id `<position>-0`, fields n (writer) and u (update). */
  readonly stream: string
  /** lb: bytes in the stream; lc: ms of the last append. */
  readonly info: string
  /** Who compacts the room now (a lease that expires). */
  readonly lease: string
  /** Where appends are announced to the nodes that follow the room. */
  readonly logChannel: string
  /** Awareness, awareness queries and deletions between the nodes serving the room. */
  readonly roomChannel: string
}

export function roomKeys(prefix: string, room: string): RoomKeys {
  const base = `${prefix}:{${Buffer.from(room).toString('base64url')}}`
  return {
    counter: `${base}:n`,
    stream: `${base}:log`,
    info: `${base}:info`,
    lease: `${base}:lease`,
    logChannel: `${base}:appended`,
    roomChannel: `${base}:room`,
  }
}

/** The channel every node's heartbeat goes to. */
export const nodesChannel = (prefix: string) => `${prefix}:nodes`

/** The room name back from a channel or key of roomKeys, or null for another name. */
export function roomOfKey(prefix: string, key: string): string | null {
  const start = `${prefix}:{`
  if (!key.startsWith(start)) return null
  const end = key.indexOf('}', start.length)
  if (end === -1) return null
  return Buffer.from(key.slice(start.length, end), 'base64url').toString()
}
