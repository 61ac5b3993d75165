// A real HTTP receiver for webhook tests, on loopback: it records every request and answers each by a
// script (a status, or 'hang' to never answer).
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { WebhookOptions } from '../../server/options/options.js'
import type { WebhookEvent } from '../../server/webhooks/payload.js'

export type Answer = number | 'hang'

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders
  body: string
  answer: Answer
}

export class WebhookReceiver {
  readonly requests: ReceivedWebhook[] = []
  private readonly server: Server
  private readonly hanging: ServerResponse[] = []

  /** `answers[i]` answers the i-th request; past the end, `otherwise`. */
  constructor(
    private readonly answers: Answer[] = [],
    private readonly otherwise: Answer = 204,
  ) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const answer = this.answers[this.requests.length] ?? this.otherwise
        this.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answer })
        if (answer === 'hang') this.hanging.push(res)
        else res.writeHead(answer).end()
      })
    })
  }

  /** Requests answered with a 2xx: what was delivered. */
  get delivered(): ReceivedWebhook[] {
    return this.requests.filter((r) => typeof r.answer === 'number' && r.answer >= 200 && r.answer < 300)
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => resolve())
    })
    return this.url
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`
  }

  close(): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

export const webhookSecret = 'webhook-secret-webhook-secret'
/** Short waits so a test runs in a second or two. */
/** Webhook options that make a test quick: short debounce and retries, plus `more`. */
export const fastWebhooks = (more: WebhookOptions) => ({
  webhooks: { secret: webhookSecret, debounceMs: 100, maxWaitMs: 1000, retryBaseMs: 50, ...more },
})
export const eventOf = (body: string) => JSON.parse(body) as WebhookEvent
