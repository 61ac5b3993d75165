import type { Extension } from '@codemirror/state'
import { EditorView, ViewPlugin } from '@codemirror/view'
import type { Awareness } from 'y-protocols/awareness'
import { CaretOwners } from '../shared/caret-owners.js'

const idleClass = 'cm-ySelectionInfo-idle'

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
      private readonly owners = new CaretOwners(awareness, idleMs)
      private readonly timer: ReturnType<typeof setInterval>
      private frame = 0
      private readonly onChange = () => {
        this.owners.refresh()
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
          label.classList.toggle(idleClass, this.owners.label(label, caret.style.backgroundColor, now))
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
