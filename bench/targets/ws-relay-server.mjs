// Floor target: the least a y-websocket-compatible server can do. It answers a client's sync step 1 with
// an empty step 2, forwards every update and awareness frame as it arrived to the room's other sockets,
// and keeps nothing: no document, no storage, no awareness states, no limits. What it costs in a scenario is the cost of
// `ws` and the kernel's sockets on this host, which every real server pays too.
// Plain JS like the other targets. Usage: node ws-relay-server.mjs <port> <host>
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'

const [port, host] = process.argv.slice(2)
if (!port || !host) {
  console.error('usage: ws-relay-server.mjs <port> <host>')
  process.exit(2)
}

const messageSync = 0
const messageAwareness = 1
const syncStep1 = 0
const syncUpdate = 2
// [messageSync][syncStep2][varUint8Array(empty Yjs update = no structs, no deletes)]
const emptyStep2 = Buffer.from([0, 1, 2, 0, 0])

/** Room name (the URL path) → its open sockets. */
const rooms = new Map()

const http = createServer((_request, response) => response.end('ok\n'))
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false })

wss.on('connection', (ws, request) => {
  const name = request.url ?? '/'
  let room = rooms.get(name)
  if (room === undefined) {
    room = new Set()
    rooms.set(name, room)
  }
  room.add(ws)
  ws.on('message', (data) => {
    if (data[0] === messageAwareness) for (const peer of room) if (peer !== ws) peer.send(data)
    if (data[0] !== messageSync) return
    if (data[1] === syncStep1) ws.send(emptyStep2)
    else if (data[1] === syncUpdate) for (const peer of room) if (peer !== ws) peer.send(data)
  })
  ws.on('error', () => ws.terminate())
  ws.on('close', () => {
    room.delete(ws)
    if (room.size === 0) rooms.delete(name)
  })
})

http.listen(Number(port), host, () => console.log(`ws relay listening on ${host}:${port}`))
