// Every refusal under /api/docs is one JSON shape, { error: code, message: sentence }, with its status.
// Routes throw ApiError; the app's error handler writes it, so a handler's return type stays its success.
import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

export type ErrorCode =
  | 'bad-request'
  | 'malformed-update'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'missing-dependencies'
  | 'too-large'
  | 'unsupported-media-type'
  | 'unavailable'
  | 'internal'

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export const ErrorSchema = z
  .object({
    error: z.string().openapi({ example: 'not-found' }),
    message: z.string().openapi({ example: 'no document named team/notes' }),
  })
  .openapi('Error')

const meaning: Record<number, string> = {
  400: 'a bad room name, query parameter or update',
  401: 'no token, or a bad one',
  403: 'the token does not grant this',
  404: 'no such document',
  409: 'the update depends on changes the document does not have',
  413: 'the body or the document would pass --max-document-size',
  415: 'the body is not application/octet-stream',
  503: 'the server is not ready, holds its maximum of rooms, or of feeds',
}

/** The error responses of a route, for its OpenAPI description. */
export function errorResponses<S extends keyof typeof meaning & number>(...statuses: S[]) {
  const responses = {} as Record<
    S,
    { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }
  >
  for (const status of statuses) {
    responses[status] = {
      description: meaning[status],
      content: { 'application/json': { schema: ErrorSchema } },
    }
  }
  return responses
}

export function errorAnswer(c: Context, error: unknown): Response {
  if (error instanceof ApiError) return c.json({ error: error.code, message: error.message }, error.status)
  const message = error instanceof Error ? error.message : String(error)
  return c.json({ error: 'internal', message: `internal error: ${message}` }, 500)
}

/** A query or parameter that fails its schema: 400 with the first problem, said plainly. */
export function invalidInput(result: { success: boolean; error?: z.ZodError }): void {
  if (result.success || result.error === undefined) return
  const issue = result.error.issues[0]
  const where = issue?.path.join('.') || 'request'
  throw new ApiError(400, 'bad-request', `${where}: ${issue?.message ?? 'invalid'}`)
}
