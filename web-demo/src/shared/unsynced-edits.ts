import * as decoding from 'lib0/decoding'
import type { WebsocketProvider } from 'y-websocket'
import type * as Y from 'yjs'
import { MessageType, SyncSub } from '../../../server/protocol/messages.js'

interface Probe {
  clock: number
  seq: number
}

/**
 * Counts local edits the server has not confirmed yet.
 *
 * y-websocket has no acknowledgements, so confirmation comes from ordering: the server processes one
 * socket's frames in order and echoes every awareness update back to its sender. After local edits, the
 * tracker re-sends our awareness state (a "probe") and remembers its clock; when the server echoes that
 * clock, every edit sent before the probe has been applied by the server.
 *
 * After a reconnect, edits made offline travel in our sync step 2, which the provider sends in reply to the
 * server's sync step 1; probes on a connection start only after that reply, and probes sent on an older
 * connection never count. The count is kept in localStorage next to the IndexedDB copy, so edits made offline
 * before a reload still count as unconfirmed after it.
 */
export class UnsyncedEdits {
  private localSeq = 0
  private confirmedSeq = 0
  private probes: Probe[] = []
  /** True once our sync step 2 (carrying any offline edits) has been sent on the current connection. */
  private stepTwoSent = false
  private probeScheduled = false
  private readonly listeners = new Set<() => void>()

  constructor(
    private readonly doc: Y.Doc,
    private readonly provider: WebsocketProvider,
    private readonly storageKey: string,
  ) {
    this.localSeq = readStoredCount(storageKey)
    doc.on('update', (_update: Uint8Array, origin: unknown) => {
      if (origin === provider) return
      this.localSeq++
      this.changed()
      this.scheduleProbe()
    })
    provider.on('status', ({ status }) => {
      if (status !== 'connected') {
        this.stepTwoSent = false
        this.probes = []
        this.changed()
      }
    })
    this.watchIncomingFrames()
  }

  /** Local edits (or locally stored content) the server has not confirmed. */
  get count(): number {
    return this.localSeq - this.confirmedSeq
  }

  /** True while connected but the first exchange of this connection has not completed. */
  get handshaking(): boolean {
    return this.provider.wsconnected && !this.stepTwoSent
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private watchIncomingFrames(): void {
    const handlers = this.provider.messageHandlers
    const handleSync = handlers[MessageType.sync]
    const handleAwareness = handlers[MessageType.awareness]
    if (handleSync === undefined || handleAwareness === undefined) throw new Error('unexpected y-websocket')
    handlers[MessageType.sync] = (encoder, decoder, provider, emitSynced, messageType) => {
      const isStepOne = emitSynced && decoding.peekVarUint(decoder) === SyncSub.step1
      handleSync(encoder, decoder, provider, emitSynced, messageType)
      // the provider sends our step 2 right after this handler returns; probe once it is out
      if (isStepOne) setTimeout(() => this.afterStepTwo(), 0)
    }
    handlers[MessageType.awareness] = (encoder, decoder, provider, emitSynced, messageType) => {
      const echoed = this.ownClockIn(decoding.clone(decoder))
      handleAwareness(encoder, decoder, provider, emitSynced, messageType)
      if (echoed !== null && emitSynced) this.confirmUpTo(echoed)
    }
  }

  private afterStepTwo(): void {
    if (!this.provider.wsconnected) return
    this.stepTwoSent = true
    this.changed()
    this.probe()
  }

  private scheduleProbe(): void {
    if (this.probeScheduled || this.probes.length > 0) return
    this.probeScheduled = true
    // one probe per burst of edits (a keystroke can be several transactions)
    setTimeout(() => {
      this.probeScheduled = false
      this.probe()
    }, 50)
  }

  private probe(): void {
    if (!this.provider.wsconnected || !this.stepTwoSent || this.count === 0) return
    const awareness = this.provider.awareness
    const state = awareness.getLocalState()
    if (state === null) return
    awareness.setLocalState(state)
    const clock = awareness.meta.get(this.doc.clientID)?.clock
    if (clock !== undefined) this.probes.push({ clock, seq: this.localSeq })
  }

  private confirmUpTo(clock: number): void {
    let confirmed = this.confirmedSeq
    while (this.probes.length > 0 && (this.probes[0] as Probe).clock <= clock) {
      confirmed = Math.max(confirmed, (this.probes.shift() as Probe).seq)
    }
    if (confirmed === this.confirmedSeq) return
    this.confirmedSeq = confirmed
    this.changed()
    // edits made while the probe was in flight need a probe of their own
    if (this.count > 0) this.scheduleProbe()
  }

  /** The clock of our own state in an awareness update, or null when the update does not include us. */
  private ownClockIn(decoder: decoding.Decoder): number | null {
    try {
      const update = decoding.createDecoder(decoding.readVarUint8Array(decoder))
      const count = decoding.readVarUint(update)
      for (let i = 0; i < count; i++) {
        const clientID = decoding.readVarUint(update)
        const clock = decoding.readVarUint(update)
        decoding.readVarString(update)
        if (clientID === this.doc.clientID) return clock
      }
    } catch {
      // a malformed update is the provider's to report; it confirms nothing
    }
    return null
  }

  private changed(): void {
    storeCount(this.storageKey, this.count)
    for (const listener of this.listeners) listener()
  }
}

function readStoredCount(key: string): number {
  try {
    const stored = Number(localStorage.getItem(key) ?? 0)
    return Number.isSafeInteger(stored) && stored > 0 ? stored : 0
  } catch {
    return 0
  }
}

function storeCount(key: string, count: number): void {
  try {
    if (count > 0) localStorage.setItem(key, String(count))
    else localStorage.removeItem(key)
  } catch {
    // without storage the count simply starts at zero after a reload
  }
}
