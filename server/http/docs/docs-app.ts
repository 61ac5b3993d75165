// The document API, /api/docs, and its OpenAPI description, /api/openapi.json, built from the same route
// definitions (@hono/zod-openapi): what is documented is what is validated and served.
import { OpenAPIHono } from '@hono/zod-openapi'
import type { DocsEnv } from './caller.js'
import { ChangeHub } from './change-hub.js'
import { registerDelete } from './delete.js'
import type { DocsDeps } from './deps.js'
import { ApiError, errorAnswer, invalidInput } from './errors.js'
import { registerFeed } from './feed.js'
import { LastChange } from './last-change.js'
import { registerList } from './list.js'
import { registerRead } from './read.js'
import { registerWrite } from './write.js'

export type { DocsDeps } from './deps.js'
export { defaultFeedLimits } from './deps.js'

/** Mounted at /api: the routes under /docs, and /openapi.json. */
export function docsApi(deps: DocsDeps): OpenAPIHono<DocsEnv> {
  const app = new OpenAPIHono<DocsEnv>({ defaultHook: (result) => invalidInput(result) })
  const hub = new ChangeHub(deps.events, deps.feeds)
  registerList(app, deps, new LastChange(deps.events))
  registerWrite(app, deps)
  registerFeed(app, deps, hub)
  registerRead(app, deps)
  registerDelete(app, deps, hub)
  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: {
      title: 'plait document API',
      version: '1',
      description:
        'Documents of a plait server over HTTP. Send the same JWT a socket would as `Authorization: Bearer <token>`; ' +
        'operator routes take the --admin-token. Errors are `{ "error": code, "message": sentence }`.',
    },
    servers: [{ url: '/api' }],
  })
  const noRoute = () => {
    throw new ApiError(404, 'not-found', 'no such route under /api/docs; see /api/openapi.json')
  }
  app.all('/docs', noRoute)
  app.all('/docs/*', noRoute)
  app.onError((error, c) => errorAnswer(c, error))
  return app
}
