// A Server-Sent Events reader for tests: every event and comment as it arrives, over a real connection.
import { type IncomingMessage, request } from 'node:http'

export interface SseEvent {
  id?: string
  event?: string
  data: string
}

export class SseClient {
  readonly events: SseEvent[] = []
  readonly comments: string[] = []
  status = 0
  ended = false
  private response: IncomingMessage | null = null
  private buffer = ''
  readonly opened: Promise<number>

  constructor(url: string, headers: Record<string, string> = {}) {
    const req = request(url, { headers: { Accept: 'text/event-stream', ...headers }, agent: false })
    this.opened = new Promise((resolve, reject) => {
      req.on('response', (res) => {
        this.response = res
        this.status = res.statusCode ?? 0
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => this.read(chunk))
        res.on('end', () => {
          this.ended = true
        })
        res.on('close', () => {
          this.ended = true
        })
        resolve(this.status)
      })
      req.on('error', reject)
    })
    req.end()
    this.request = req
  }

  private readonly request: ReturnType<typeof request>

  /** The body so far when the answer was not a stream (an error's JSON). */
  get text(): string {
    return this.buffer
  }

  /** The parsed JSON data of every message event. */
  data(): Record<string, unknown>[] {
    return this.events.filter((e) => e.event === undefined).map((e) => JSON.parse(e.data))
  }

  private read(chunk: string): void {
    this.buffer += chunk
    if (!this.response?.headers['content-type']?.startsWith('text/event-stream')) return
    let end = this.buffer.indexOf('\n\n')
    while (end !== -1) {
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      const event: SseEvent = { data: '' }
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim())
        else if (line.startsWith('data: ')) data.push(line.slice(6))
        else if (line.startsWith('id: ')) event.id = line.slice(4)
        else if (line.startsWith('event: ')) event.event = line.slice(7)
      }
      if (data.length > 0) {
        event.data = data.join('\n')
        this.events.push(event)
      }
      end = this.buffer.indexOf('\n\n')
    }
  }

  close(): void {
    this.request.destroy()
  }
}
