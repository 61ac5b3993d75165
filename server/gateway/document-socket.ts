// The WebSocket class the gateway's ws server creates. ws closes a frame over its size limit with 1009
// and no reason, which stock y-websocket clients retry at once, forever: a document that outgrew the
// limit reconnected and was refused 55 times in 15 s, never synced, and nobody saw why. This class
// turns that close into 4413 with a sentence a person can act on; stock clients stop on 44xx closes.
import type { WebSocket } from 'ws'
import { wsModule } from '../commonjs.js'
import { Closes } from '../protocol/close-codes.js'

/** Called once per refused frame, with its size when ws knows it; returns the close reason. */
export type OnFrameTooBig = (ws: WebSocket, bytes: number | null) => string

/** The size of the frame ws's receiver is refusing (its own running count; not public API). */
function refusedFrameBytes(ws: WebSocket): number | null {
  const receiver = (ws as unknown as { _receiver?: { _totalPayloadLength?: unknown } })._receiver
  const bytes = receiver?._totalPayloadLength
  return typeof bytes === 'number' && bytes > 0 ? bytes : null
}

export function documentSocketClass(onFrameTooBig: OnFrameTooBig): typeof WebSocket {
  return class DocumentSocket extends wsModule.WebSocket {
    override close(code?: number, data?: string | Buffer): void {
      // Only ws itself closes with 1009 and no reason: its receiver found a frame over maxPayload.
      if (code === Closes.tooBig && data === undefined && this.readyState === this.OPEN) {
        super.close(Closes.documentTooLarge, onFrameTooBig(this, refusedFrameBytes(this)))
        return
      }
      super.close(code, data)
    }
  }
}
