// The whole durable state of a document as one update, for reads and feed resumes. Storage is asked
// first, so a read of a missing document does not take one of the --max-rooms slots.
import type { DocsDeps } from './deps.js'
import { ApiError } from './errors.js'

/** The document as one Yjs update, or null when nobody ever wrote to it. */
export async function documentState(deps: DocsDeps, room: string): Promise<Uint8Array | null> {
  if (deps.loadedRoom(room)?.exists !== true && !(await deps.hasRoom(room))) return null
  const opened = deps.openRoom(room)
  if (opened === null) throw new ApiError(503, 'unavailable', 'the server holds its maximum number of rooms')
  try {
    await opened.ready
  } catch {
    throw new ApiError(503, 'unavailable', 'this document could not be loaded; see the server log')
  }
  if (!opened.exists) return null
  try {
    return await opened.exportState()
  } catch (error) {
    throw new ApiError(503, 'unavailable', (error as Error).message)
  }
}

export async function existingState(deps: DocsDeps, room: string): Promise<Uint8Array> {
  const state = await documentState(deps, room)
  if (state === null) throw new ApiError(404, 'not-found', `no document named ${room}`)
  return state
}
