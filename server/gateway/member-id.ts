// One sequence of ids for every room member, y-websocket sockets and Hocuspocus documents alike: an
// event's origin (connectionId) names exactly one of them.
let next = 1

export const nextMemberId = (): number => next++
