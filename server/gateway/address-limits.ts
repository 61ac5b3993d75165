// Per-client-address limits on WebSockets: sockets open at once and upgrades per minute.
export interface AddressLimitOptions {
  maxSocketsPerIp: number
  maxUpgradesPerIpPerMinute: number
}

const WINDOW_MS = 60_000

export class AddressLimits {
  private readonly socketsPerIp = new Map<string, number>()
  private readonly upgradesPerIp = new Map<string, { windowStart: number; count: number }>()

  constructor(private readonly options: AddressLimitOptions) {}

  /** True when `ip` holds as many sockets as it may. */
  atSocketLimit(ip: string): boolean {
    return (this.socketsPerIp.get(ip) ?? 0) >= this.options.maxSocketsPerIp
  }

  /** Counts one upgrade attempt; false when `ip` made too many in this minute. */
  countUpgrade(ip: string): boolean {
    const now = Date.now()
    const entry = this.upgradesPerIp.get(ip)
    if (entry === undefined || now - entry.windowStart >= WINDOW_MS) {
      this.upgradesPerIp.set(ip, { windowStart: now, count: 1 })
      return true
    }
    return ++entry.count <= this.options.maxUpgradesPerIpPerMinute
  }

  socketOpened(ip: string): void {
    this.socketsPerIp.set(ip, (this.socketsPerIp.get(ip) ?? 0) + 1)
  }

  socketClosed(ip: string): void {
    const count = (this.socketsPerIp.get(ip) ?? 1) - 1
    if (count <= 0) this.socketsPerIp.delete(ip)
    else this.socketsPerIp.set(ip, count)
  }

  /** Forgets rate windows that ended, so the map follows the active addresses only. */
  sweep(): void {
    const cutoff = Date.now() - WINDOW_MS
    for (const [ip, entry] of this.upgradesPerIp)
      if (entry.windowStart < cutoff) this.upgradesPerIp.delete(ip)
  }
}
