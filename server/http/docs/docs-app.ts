// The document API, /api/docs, and its OpenAPI description, /api/openapi.json, built from the same route
// definitions (@hono/zod-openapi): what is documented is what is validated and served. app.ts loads this
// module at the API's first request: building its schemas costs start-up time no probe needs.
import { OpenAPIHono } from '@hono/zod-openapi'
import type { DocsEnv } from './caller.js'
import { ChangeHub } from './change-hub.js'
import { registerDelete } from './delete.js'
import type { DocsDeps } from './deps.js'
import { ApiError, errorAnswer, invalidInput } from './errors.js'
import { registerFeed } from './feed.js'
import type { LastChange } from './last-change.js'
import { registerList } from './list.js'
import { registerRead } from './read.js'
import { registerVersions } from './versions.js'
import { registerWrite } from './write.js'

export type { DocsDeps } from './deps.js'
export { defaultFeedLimits } from './deps.js'

/** The whole document API at its full paths (/api/docs…, /api/openapi.json); `lastChange` has been
 * following the rooms since start-up (this app is built at the API's first request). */
export function docsApi(deps: DocsDeps, lastChange: LastChange): OpenAPIHono<DocsEnv> {
  const docs = new OpenAPIHono<DocsEnv>({ defaultHook: (result) => invalidInput(result) })
  const hub = new ChangeHub(deps.events, deps.feeds)
  registerList(docs, deps, lastChange)
  registerWrite(docs, deps)
  registerFeed(docs, deps, hub)
  registerVersions(docs, deps)
  registerRead(docs, deps)
  registerDelete(docs, deps, hub)
  const noRoute = () => {
    throw new ApiError(404, 'not-found', 'no such route under /api/docs; see /api/openapi.json')
  }
  docs.all('/docs', noRoute)
  docs.all('/docs/*', noRoute)
  docs.onError((error, c) => errorAnswer(c, error))
  const api = new OpenAPIHono<DocsEnv>()
  api.route('/api', docs)
  api.doc('/api/openapi.json', {
    openapi: '3.0.3',
    info: {
      title: 'plait document API',
      version: '1',
      description:
        'Documents of a plait server over HTTP. Send the same JWT a socket would as `Authorization: Bearer <token>`; ' +
        'operator routes take the --admin-token. Errors are `{ "error": code, "message": sentence }`.',
    },
  })
  return api
}
