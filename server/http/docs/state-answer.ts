// A document state answered as GET /api/docs/:room answers it: one update, JSON of its roots, or one
// Y.Text. Shared by the document itself and its versions.
import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { DocsEnv } from './caller.js'
import { ApiError } from './errors.js'
import { docOf, rootsAsJson, textOf } from './json-view.js'

export const StateQuery = z.object({
  format: z.enum(['update', 'json', 'text']).default('update'),
  name: z.string().optional().openapi({ description: 'With format=text: the Y.Text to read', example: 't' }),
})

export const stateContent = {
  'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
  'application/json': { schema: z.record(z.string(), z.unknown()).openapi('DocumentJson') },
  'text/plain': { schema: z.string() },
}

export const stateDescription =
  'update: `Y.applyUpdate(doc, new Uint8Array(await res.arrayBuffer()))`. json: each root type by name ' +
  '(Y.Text as a string, Y.Map as an object, Y.Array as an array, XML as its string). text: the Y.Text, "" when there is none.'

/** Refuses format=text without a name, before any work. */
export function checkStateQuery({ format, name }: z.infer<typeof StateQuery>): void {
  if (format === 'text' && name === undefined)
    throw new ApiError(400, 'bad-request', 'format=text needs name=<the Y.Text to read>')
}

export function answerState(c: Context<DocsEnv>, state: Uint8Array, query: z.infer<typeof StateQuery>) {
  const { format, name } = query
  if (format === 'update')
    return c.body(state as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'application/octet-stream' })
  const doc = docOf(state)
  try {
    if (format === 'json') return c.json(rootsAsJson(doc), 200)
    const text = textOf(doc, name as string)
    if (text === null) throw new ApiError(400, 'bad-request', `${name} is not a Y.Text in this document`)
    return c.text(text, 200, { 'Content-Type': 'text/plain; charset=utf-8' })
  } finally {
    doc.destroy()
  }
}
