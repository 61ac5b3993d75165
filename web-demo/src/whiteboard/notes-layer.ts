import type { BoardModel, Note } from './board-model.js'

interface NoteView {
  element: HTMLElement
  text: HTMLTextAreaElement
}

/** Sticky notes as DOM elements over the canvas: drag by the top strip, type in the body, × to remove. */
export function mountNotesLayer(layer: HTMLElement, model: BoardModel): void {
  const views = new Map<string, NoteView>()

  const create = (note: Note): NoteView => {
    const element = document.createElement('div')
    element.className = 'note'
    element.dataset.id = note.id
    const grip = document.createElement('div')
    grip.className = 'note-grip'
    grip.title = 'Drag to move'
    const remove = document.createElement('button')
    remove.type = 'button'
    remove.className = 'note-delete'
    remove.title = 'Delete note'
    remove.setAttribute('aria-label', 'Delete note')
    remove.textContent = '×'
    grip.append(remove)
    const text = document.createElement('textarea')
    text.className = 'note-text'
    text.placeholder = 'Write something…'
    text.setAttribute('aria-label', 'Sticky note')
    element.append(grip, text)
    layer.append(element)

    remove.addEventListener('click', () => model.deleteNote(note.id))
    text.addEventListener('focus', () => model.beginNoteGesture())
    text.addEventListener('input', () => model.setNoteText(note.id, text.value))
    grip.addEventListener('pointerdown', (event) => {
      if (event.target === remove) return
      event.preventDefault()
      grip.setPointerCapture(event.pointerId)
      model.beginNoteGesture()
      const startX = event.clientX
      const startY = event.clientY
      const origin = { x: Number(element.dataset.x), y: Number(element.dataset.y) }
      element.classList.add('dragging')
      const move = (moveEvent: PointerEvent) => {
        model.moveNote(note.id, {
          x: Math.max(0, origin.x + moveEvent.clientX - startX),
          y: Math.max(0, origin.y + moveEvent.clientY - startY),
        })
      }
      const up = () => {
        element.classList.remove('dragging')
        grip.removeEventListener('pointermove', move)
        grip.removeEventListener('pointerup', up)
        grip.removeEventListener('pointercancel', up)
        model.beginNoteGesture()
      }
      grip.addEventListener('pointermove', move)
      grip.addEventListener('pointerup', up)
      grip.addEventListener('pointercancel', up)
    })
    return { element, text }
  }

  const render = () => {
    const seen = new Set<string>()
    for (const note of model.readNotes()) {
      seen.add(note.id)
      const view = views.get(note.id) ?? create(note)
      views.set(note.id, view)
      view.element.dataset.x = String(note.x)
      view.element.dataset.y = String(note.y)
      view.element.style.transform = `translate(${note.x}px, ${note.y}px)`
      view.element.style.setProperty('--note-color', note.color)
      // never rewrite the note someone is typing in: it would move their caret
      if (document.activeElement !== view.text && view.text.value !== note.text) view.text.value = note.text
    }
    for (const [id, view] of views) {
      if (seen.has(id)) continue
      view.element.remove()
      views.delete(id)
    }
  }
  model.observe(render)
  render()
}

/** Focuses the text of a note once it is on screen (after a local "add note"). */
export function focusNote(layer: HTMLElement, id: string): void {
  layer.querySelector<HTMLTextAreaElement>(`.note[data-id="${CSS.escape(id)}"] .note-text`)?.focus()
}
