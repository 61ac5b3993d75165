// A redis-server of the test's own: a child process on a free loopback port with its data in a temp dir,
// so a test can kill and restart it mid-stream without touching any Redis the machine runs.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { freePort, removeDir, tempDir } from './server.js'
import { pause, ServiceProcess } from './service-process.js'

const readyTimeoutMs = 15_000
// A port just released, or taken between freePort and the bind: try again a few times.
const startAttempts = 5

export interface RedisOptions {
  /** AOF with this fsync policy (default 'always': every acknowledged write is on disk), or no AOF. */
  appendfsync?: 'always' | 'everysec' | 'no-persistence'
  port?: number
  /** More redis-server flags, e.g. for a Redis Cluster node. */
  extraArgs?: string[]
}

export interface RedisServer {
  /** redis://127.0.0.1:port */
  readonly url: string
  readonly port: number
  readonly dir: string
  /** The pid of the running redis-server (of the last one after stop or kill). */
  readonly pid: number
  /** The tail of its log file, to explain a failure. */
  readonly log: string
  /** SIGTERM, waits for the exit; SIGKILL after 10 s. */
  stop(): Promise<void>
  /** SIGKILL: a crash; what the AOF has is all that comes back. */
  kill(): Promise<void>
  /** Starts it again on the same port and directory; the data comes back from the AOF. */
  start(): Promise<void>
  restart(): Promise<void>
  /** Stops it and removes its directory. */
  dispose(): Promise<void>
}

/** Why Redis tests cannot run here, in one line, or null when they can. */
export function redisSkipReason(): string | null {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'pipe', timeout: 5_000 })
    return null
  } catch {
    return 'redis-server is not on PATH (Debian: apt-get install redis-server)'
  }
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const server = new TestRedis(
    options.port ?? (await freePort()),
    options.appendfsync ?? 'always',
    options.extraArgs ?? [],
  )
  try {
    // no port asked for: a port someone took since freePort is replaced by another free one
    await server.start(options.port === undefined)
  } catch (error) {
    removeDir(server.dir)
    throw error
  }
  return server
}

class TestRedis implements RedisServer {
  readonly dir = tempDir('plait-redis-')
  private process: ServiceProcess | null = null
  private lastPid = 0

  constructor(
    public port: number,
    private readonly appendfsync: 'always' | 'everysec' | 'no-persistence',
    private readonly extraArgs: string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get pid(): number {
    return this.lastPid
  }

  get log(): string {
    const file = join(this.dir, 'redis.log')
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-4000) : ''
  }

  async start(mayChangePort = false): Promise<void> {
    if (this.process?.isRunning) throw new Error('redis-server already running')
    for (let attempt = 1; ; attempt++) {
      const service = new ServiceProcess('redis-server', this.args(), { cwd: this.dir })
      this.process = service
      this.lastPid = service.pid
      const outcome = await this.waitReady(service)
      if (outcome === 'ready') return
      const log = this.log
      if (outcome === 'exited' && /Address already in use/.test(log) && attempt < startAttempts) {
        if (mayChangePort) this.port = await freePort()
        await pause(100 * attempt)
        continue
      }
      await service.kill()
      throw new Error(
        `redis-server on port ${this.port} did not start (${outcome}):\n${log}${service.output}`,
      )
    }
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM')
  }

  async kill(): Promise<void> {
    await this.process?.kill()
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  async dispose(): Promise<void> {
    await this.stop()
    removeDir(this.dir)
  }

  private args(): string[] {
    const persistence =
      this.appendfsync === 'no-persistence'
        ? ['--appendonly', 'no']
        : ['--appendonly', 'yes', '--appendfsync', this.appendfsync]
    return [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--daemonize',
      'no',
      '--dir',
      this.dir,
      '--logfile',
      join(this.dir, 'redis.log'),
      // no RDB snapshots: what survives a crash is what the AOF policy says
      '--save',
      '',
      ...persistence,
      '--maxmemory-policy',
      'noeviction',
      ...this.extraArgs,
    ]
  }

  /** Polls until this very process (its pid, not whoever holds the port) answers PING with PONG. */
  private async waitReady(service: ServiceProcess): Promise<'ready' | 'exited' | 'timed out'> {
    const deadline = Date.now() + readyTimeoutMs
    while (Date.now() < deadline) {
      if (!service.isRunning) return 'exited'
      const replies = await inlineCommands(this.port, ['PING', 'INFO server']).catch(() => null)
      // before the AOF is loaded PING answers -LOADING
      if (
        replies !== null &&
        replies[0] === '+PONG' &&
        replies[1].includes(`process_id:${service.pid}\r\n`)
      ) {
        return 'ready'
      }
      await pause(20)
    }
    return service.isRunning ? 'timed out' : 'exited'
  }
}

/**
 * Sends inline commands (Redis's plain-text protocol) on one connection and resolves with the replies:
 * a status or error line as it is, a bulk string's contents. Enough for PING and INFO.
 */
function inlineCommands(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    let buffer = Buffer.alloc(0)
    socket.setTimeout(1_000, () => socket.destroy(new Error('no answer within 1 s')))
    socket.once('error', reject)
    socket.once('close', () => reject(new Error('closed before all replies')))
    socket.once('connect', () => socket.write(commands.map((command) => `${command}\r\n`).join('')))
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      const replies = parseReplies(buffer, commands.length)
      if (replies === null) return
      socket.destroy()
      resolve(replies)
    })
  })
}

function parseReplies(buffer: Buffer, count: number): string[] | null {
  const replies: string[] = []
  let at = 0
  while (replies.length < count) {
    const lineEnd = buffer.indexOf('\r\n', at)
    if (lineEnd === -1) return null
    const line = buffer.toString('utf8', at, lineEnd)
    at = lineEnd + 2
    if (line.startsWith('$')) {
      const length = Number(line.slice(1))
      if (length < 0) {
        replies.push('')
        continue
      }
      if (buffer.length < at + length + 2) return null
      replies.push(buffer.toString('utf8', at, at + length))
      at += length + 2
    } else {
      replies.push(line)
    }
  }
  return replies
}
