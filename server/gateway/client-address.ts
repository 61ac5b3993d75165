// The address a request comes from. Behind a reverse proxy every TCP peer is the proxy, so for a peer
// listed in --trusted-proxies the client is read from X-Forwarded-For (or, without it, Forwarded: for=):
// the rightmost address that is not itself a trusted proxy. Anyone else's headers are ignored: a client
// could write any address there.
import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'
import { ConfigError } from '../cli/config.js'

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) is 10.0.0.1; a zone ("%eth0") is dropped. */
export function normalizeAddress(address: string): string {
  const unzoned = address.includes('%') ? address.slice(0, address.indexOf('%')) : address
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(unzoned)
  return mapped ? mapped[1] : unzoned.toLowerCase()
}

export class TrustedProxies {
  private readonly list = new BlockList()
  readonly size: number

  /** Addresses ("10.0.0.2", "::1") or CIDR ranges ("10.0.0.0/8", "fd00::/8"); throws ConfigError on a typo. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address, prefix, extra] = entry.split('/')
      const family = isIP(address)
      const bits = family === 4 ? 32 : 128
      const length = prefix === undefined ? bits : Number(prefix)
      if (family === 0 || extra !== undefined || !/^\d{1,3}$/.test(prefix ?? '0') || length > bits) {
        throw new ConfigError(
          `--trusted-proxies: "${entry}" is not an IP address or CIDR range (e.g. 10.0.0.2, 10.0.0.0/8, fd00::/8)`,
        )
      }
      this.list.addSubnet(normalizeAddress(address), length, family === 4 ? 'ipv4' : 'ipv6')
    }
    this.size = entries.length
  }

  has(address: string): boolean {
    if (this.size === 0) return false
    const normal = normalizeAddress(address)
    const family = isIP(normal)
    return family !== 0 && this.list.check(normal, family === 4 ? 'ipv4' : 'ipv6')
  }
}

/** One hop of a forwarding header as an address: without quotes, brackets or port; null if it is none. */
function hopAddress(raw: string): string | null {
  let value = raw.trim()
  if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value)
  if (bracketed) value = bracketed[1]
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'))
  const normal = normalizeAddress(value)
  return isIP(normal) === 0 ? null : normal
}

/** The for= values of a Forwarded header (RFC 7239), nearest hop last. */
function forwardedFor(header: string): string[] {
  const hops: string[] = []
  for (const element of header.split(',')) {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=')
      if (eq !== -1 && pair.slice(0, eq).trim().toLowerCase() === 'for') hops.push(pair.slice(eq + 1))
    }
  }
  return hops
}

const headerText = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(',') : value

/**
 * The client address of `request`: its TCP peer, unless that peer is a trusted proxy; then the rightmost
 * forwarded address that is not a trusted proxy (a hop that is not an address stops the walk at the last
 * trusted one, which is then the best we know).
 */
export function clientAddress(request: IncomingMessage, proxies: TrustedProxies): string {
  const peer = normalizeAddress(request.socket.remoteAddress ?? 'unknown')
  if (!proxies.has(peer)) return peer
  const xff = headerText(request.headers['x-forwarded-for'])
  const forwarded = headerText(request.headers.forwarded)
  const hops = xff !== undefined ? xff.split(',') : forwarded !== undefined ? forwardedFor(forwarded) : []
  let client = peer
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i])
    if (hop === null) break
    client = hop
    if (!proxies.has(hop)) break
  }
  return client
}
