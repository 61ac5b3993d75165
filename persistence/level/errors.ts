// LevelDB's failures as StoreErrors with a sentence a person can act on.
import { StoreError } from '../store.js'

/** Why the data directory could not be opened: held by another process, or another I/O problem. */
export function openError(location: string, error: unknown): StoreError {
  const cause = (error as { cause?: { message?: string } }).cause
  if (cause?.message?.includes('lock')) {
    return new StoreError(
      `The data directory ${location} is in use by another plait process; stop it or choose another --data directory.`,
      'locked',
      { cause: error },
    )
  }
  const why = cause?.message ?? String(error)
  return new StoreError(`Cannot open the data directory ${location}: ${why}`, 'io', { cause: error })
}

/** A write (`what`: "writing", "saving a version") that LevelDB refused: nothing of it is stored. */
export function writeError(location: string, what: string, error: unknown): StoreError {
  return new StoreError(`${what} to ${location} failed: ${(error as Error).message}`, 'io', { cause: error })
}
