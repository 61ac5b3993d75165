// LevelDB whose reads and writes wait until the test opens the gate: a very slow disk, or (failNextWrite)
// a full one. Real LevelDB underneath; only the timing is the test's.
import { LevelStore } from '../../persistence/level/level-store.js'
import type { WriteBatch, WriteResult } from '../../persistence/store.js'

export class GatedStore extends LevelStore {
  gated = false
  /** The next write fails as a full disk would. */
  failNextWrite = false
  /** Reads and writes waiting for the gate. */
  readonly held: (() => void)[] = []

  override async write(batch: WriteBatch): Promise<WriteResult> {
    if (this.gated) await new Promise<void>((resolve) => this.held.push(resolve))
    if (this.failNextWrite) {
      this.failNextWrite = false
      throw new Error('No space left on device')
    }
    return super.write(batch)
  }

  override async load(room: string) {
    if (this.gated) await new Promise<void>((resolve) => this.held.push(resolve))
    return super.load(room)
  }

  openGate(): void {
    this.gated = false
    for (const release of this.held.splice(0)) release()
  }
}
