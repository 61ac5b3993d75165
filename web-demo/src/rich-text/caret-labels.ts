import type { Awareness } from 'y-protocols/awareness'

interface CaretState {
  user?: { name?: unknown; color?: unknown }
  cursor?: unknown
}

export const idleCaretClass = 'collaboration-carets__caret--idle'

/** A colour as the browser writes it back (`rgb(214, 160, 0)`), so styles and awareness colours compare. */
function normalizeColor(color: string): string {
  const probe = document.createElement('span')
  probe.style.color = color
  return probe.style.color
}

/**
 * Looks after the name labels on other people's carets in `root`, as the notes page does for CodeMirror:
 * - keeps them current: the caret plugin keys a caret's DOM by client and reuses it, so a rename would not
 *   show until the line is redrawn; a caret's owner is found by its colour (when unique in the room);
 * - shows a name while its owner moves or types and hides it a few seconds later, so names do not sit on
 *   the line above (hovering the caret shows it again).
 */
export function watchCaretLabels(root: HTMLElement, awareness: Awareness, idleMs = 4000): () => void {
  const lastMoved = new Map<string, number>()
  const lastCursor = new Map<number, string>()
  let namesByColor = new Map<string, string | null>()
  let frame = 0

  const apply = () => {
    frame = 0
    const now = Date.now()
    for (const caret of root.querySelectorAll<HTMLElement>('.collaboration-carets__caret')) {
      const label = caret.querySelector('.collaboration-carets__label')
      if (label === null) continue
      const owner = namesByColor.get(caret.style.borderColor)
      if (typeof owner === 'string' && label.textContent !== owner) label.textContent = owner
      const moved = lastMoved.get(label.textContent ?? '')
      caret.classList.toggle(idleCaretClass, moved === undefined || now - moved > idleMs)
    }
  }
  const schedule = () => {
    if (frame === 0) frame = requestAnimationFrame(apply)
  }
  const onChange = () => {
    const now = Date.now()
    const names = new Map<string, string | null>()
    for (const [clientID, raw] of awareness.getStates()) {
      const state = raw as CaretState
      const name = state.user?.name
      const color = state.user?.color
      if (clientID === awareness.clientID || typeof name !== 'string') continue
      if (typeof color === 'string') {
        const key = normalizeColor(color)
        names.set(key, names.has(key) ? null : name)
      }
      const cursor = JSON.stringify(state.cursor ?? null)
      if (lastCursor.get(clientID) === cursor) continue
      lastCursor.set(clientID, cursor)
      lastMoved.set(name, now)
    }
    namesByColor = names
    schedule()
  }

  awareness.on('change', onChange)
  // carets are redrawn after awareness changes and edits; look again whenever the editor's DOM changes
  const observer = new MutationObserver(schedule)
  observer.observe(root, { childList: true, subtree: true })
  const timer = setInterval(schedule, 1000)
  onChange()
  return () => {
    awareness.off('change', onChange)
    observer.disconnect()
    clearInterval(timer)
    cancelAnimationFrame(frame)
  }
}
