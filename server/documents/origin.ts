// Who made a change. Every change carries one, so events, hooks, webhooks and the cluster decide by it
// instead of by special cases (a change that came from another node is neither stored nor published
// again; a webhook can say who edited what).

export type Origin =
  /** A client's socket: which connection, and the verified user (null without auth). */
  | { readonly kind: 'client'; readonly connectionId: number; readonly userId: string | null }
  /** The server itself (a server-side edit). */
  | { readonly kind: 'server' }
  /** Another node of a cluster. */
  | { readonly kind: 'remote'; readonly node: string }

/** The origin of every server-side edit. */
export const serverOrigin: Origin = { kind: 'server' }

export const clientOrigin = (member: { readonly id: number; readonly userId: string | null }): Origin => ({
  kind: 'client',
  connectionId: member.id,
  userId: member.userId,
})

export const remoteOrigin = (node: string): Origin => ({ kind: 'remote', node })

/** The Yjs transaction origin of updates another node already stored: the intake does not log them. */
export const REMOTE_TRANSACTION = Symbol('another node')
