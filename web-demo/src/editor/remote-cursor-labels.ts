import type { Extension } from '@codemirror/state'
import { EditorView, ViewPlugin } from '@codemirror/view'
import type { Awareness } from 'y-protocols/awareness'

interface CursorState {
  user?: { name?: unknown; color?: unknown }
  cursor?: unknown
}

const idleClass = 'cm-ySelectionInfo-idle'

/** A colour as the browser writes it back (`rgb(214, 160, 0)`), so styles and awareness colours compare. */
function normalizeColor(color: string): string {
  const probe = document.createElement('span')
  probe.style.color = color
  return probe.style.color
}

/**
 * Looks after the name labels on other people's carets:
 * - keeps them current: y-codemirror reuses a caret's DOM while its colour is unchanged, so a rename would
 *   otherwise never show; a caret's owner is found by its colour (when the colour is unique in the room);
 * - shows a name while its owner moves or types and hides it a few seconds later, so names do not sit on
 *   the text (hovering the caret shows it again).
 */
export function remoteCursorLabels(awareness: Awareness, idleMs = 4000): Extension {
  const plugin = ViewPlugin.fromClass(
    class {
      private readonly lastMoved = new Map<string, number>()
      private readonly lastCursor = new Map<number, string>()
      /** Normalized colour → the name of the one remote user with it, or null when several share it. */
      private namesByColor = new Map<string, string | null>()
      private readonly timer: ReturnType<typeof setInterval>
      private frame = 0
      private readonly onChange = () => {
        const now = Date.now()
        const names = new Map<string, string | null>()
        for (const [clientID, raw] of awareness.getStates()) {
          const state = raw as CursorState
          const name = state.user?.name
          const color = state.user?.color
          if (clientID === awareness.clientID || typeof name !== 'string') continue
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
        this.schedule()
      }

      constructor(private readonly view: EditorView) {
        awareness.on('change', this.onChange)
        this.timer = setInterval(() => this.schedule(), 1000)
        this.onChange()
      }

      update(): void {
        // caret widgets are (re)drawn after plugins update; fix them up once they are in the DOM
        this.schedule()
      }

      destroy(): void {
        awareness.off('change', this.onChange)
        clearInterval(this.timer)
        cancelAnimationFrame(this.frame)
      }

      private schedule(): void {
        if (this.frame === 0) this.frame = requestAnimationFrame(() => this.apply())
      }

      private apply(): void {
        this.frame = 0
        const now = Date.now()
        for (const caret of this.view.dom.querySelectorAll<HTMLElement>('.cm-ySelectionCaret')) {
          const label = caret.querySelector('.cm-ySelectionInfo')
          if (label === null) continue
          const owner = this.namesByColor.get(caret.style.backgroundColor)
          if (typeof owner === 'string' && label.textContent !== owner) label.textContent = owner
          const moved = this.lastMoved.get(label.textContent ?? '')
          label.classList.toggle(idleClass, moved === undefined || now - moved > idleMs)
        }
      }
    },
  )
  const theme = EditorView.theme({
    [`.cm-ySelectionInfo.${idleClass}`]: { opacity: '0', transitionDelay: '0s' },
    '.cm-ySelectionCaret:hover > .cm-ySelectionInfo': { opacity: '1' },
  })
  return [plugin, theme]
}
