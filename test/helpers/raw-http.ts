// HTTP at the TCP level for tests: requests from a chosen loopback source address (127.0.0.2 is another
// client to the server), and connections that send part of their headers and then nothing (slowloris).
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'

export interface Answer {
  status: number
  body: string
}

/** One GET on its own connection (closed afterwards), from `from`. */
export function getFrom(
  port: number,
  path: string,
  from = '127.0.0.1',
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        localAddress: from,
        agent: false,
        headers: { Connection: 'close', ...headers },
      },
      (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** The number in a Prometheus line `name value` of the server's /metrics, scraped from 127.0.0.2. */
export async function metricValue(port: number, name: string): Promise<number> {
  const { body } = await getFrom(port, '/metrics', '127.0.0.2')
  const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`)
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(body)
  return match ? Number(match[1]) : 0
}

export interface HalfOpen {
  socket: Socket
  openedAt: number
  closedAt: number | null
  received: string
}

/** `count` connections from `from` that each send the start of a request and then wait. */
export async function openHalfOpen(port: number, from: string, count: number): Promise<HalfOpen[]> {
  const all: HalfOpen[] = []
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port, localAddress: from })
          const held: HalfOpen = { socket, openedAt: 0, closedAt: null, received: '' }
          all.push(held)
          socket.on('data', (chunk: Buffer) => {
            held.received += chunk
          })
          socket.on('close', () => {
            held.closedAt = Date.now()
          })
          socket.on('error', () => {})
          socket.once('connect', () => {
            held.openedAt = Date.now()
            socket.write('GET /healthz HTTP/1.1\r\nHost: plait\r\nX-Slow: ')
            resolve()
          })
          socket.once('error', reject)
        }),
    ),
  )
  return all
}
