import type { Awareness } from 'y-protocols/awareness'
import { CaretOwners } from '../shared/caret-owners.js'

export const idleCaretClass = 'collaboration-carets__caret--idle'

/**
 * Looks after the name labels on other people's carets in `root`, as the notes page does for CodeMirror:
 * - keeps them current: the caret plugin keys a caret's DOM by client and reuses it, so a rename would not
 *   show until the line is redrawn; a caret's owner is found by its colour (when unique in the room);
 * - shows a name while its owner moves or types and hides it a few seconds later, so names do not sit on
 *   the line above (hovering the caret shows it again).
 */
export function watchCaretLabels(root: HTMLElement, awareness: Awareness, idleMs = 4000): () => void {
  const owners = new CaretOwners(awareness, idleMs)
  let frame = 0

  const apply = () => {
    frame = 0
    const now = Date.now()
    for (const caret of root.querySelectorAll<HTMLElement>('.collaboration-carets__caret')) {
      const label = caret.querySelector('.collaboration-carets__label')
      if (label === null) continue
      caret.classList.toggle(idleCaretClass, owners.label(label, caret.style.borderColor, now))
    }
  }
  const schedule = () => {
    if (frame === 0) frame = requestAnimationFrame(apply)
  }
  const onChange = () => {
    owners.refresh()
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
