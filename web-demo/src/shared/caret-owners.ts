// Who owns which remote caret, and whether they moved lately: both editors (CodeMirror on the notes page,
// Tiptap on the rich-text page) label other people's carets by name, find a caret's owner by its colour
// (when the colour is unique in the room: the caret DOM is reused across renames), and fade a name a few
// seconds after its owner stopped moving or typing.
import type { Awareness } from 'y-protocols/awareness'

interface CaretState {
  user?: { name?: unknown; color?: unknown }
  cursor?: unknown
}

/** A colour as the browser writes it back (`rgb(214, 160, 0)`), so styles and awareness colours compare. */
function normalizeColor(color: string): string {
  const probe = document.createElement('span')
  probe.style.color = color
  return probe.style.color
}

export class CaretOwners {
  private readonly lastMoved = new Map<string, number>()
  private readonly lastCursor = new Map<number, string>()
  /** Normalized colour → the name of the one remote user with it, or null when several share it. */
  private namesByColor = new Map<string, string | null>()

  constructor(
    private readonly awareness: Awareness,
    private readonly idleMs: number,
  ) {}

  /** Reads the awareness states again (call on every awareness change). */
  refresh(): void {
    const now = Date.now()
    const names = new Map<string, string | null>()
    for (const [clientID, raw] of this.awareness.getStates()) {
      const state = raw as CaretState
      const name = state.user?.name
      const color = state.user?.color
      if (clientID === this.awareness.clientID || typeof name !== 'string') continue
      if (typeof color === 'string') {
        const key = normalizeColor(color)
        names.set(key, names.has(key) ? null : name)
      }
      const cursor = JSON.stringify(state.cursor ?? null)
      if (this.lastCursor.get(clientID) === cursor) continue
      this.lastCursor.set(clientID, cursor)
      this.lastMoved.set(name, now)
    }
    this.namesByColor = names
  }

  /** Puts the owner's current name on `label` (found by the caret's `color`); returns whether it is idle. */
  label(label: Element, color: string, now = Date.now()): boolean {
    const owner = this.namesByColor.get(color)
    if (typeof owner === 'string' && label.textContent !== owner) label.textContent = owner
    const moved = this.lastMoved.get(label.textContent ?? '')
    return moved === undefined || now - moved > this.idleMs
  }
}
