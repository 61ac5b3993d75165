import { startPage } from '../shared/start-page.js'
import { showToast } from '../shared/toast.js'
import { BoardModel, type StrokeInProgress } from './board-model.js'
import { focusNote, mountNotesLayer } from './notes-layer.js'
import { mountPointersLayer, trackOwnPointer } from './pointers-layer.js'
import { mountStrokeCanvas } from './stroke-canvas.js'

type Tool = 'pen' | 'note'

const inks = [
  { name: 'Ink', value: '#1c2024' },
  { name: 'Blue', value: '#0b68cb' },
  { name: 'Red', value: '#dc3e42' },
  { name: 'Green', value: '#218358' },
  { name: 'Violet', value: '#8145b5' },
]
/** Sticky notes take a pale version of the selected ink. */
const noteColors: Record<string, string> = {
  '#1c2024': '#fff1a8',
  '#0b68cb': '#d5ebff',
  '#dc3e42': '#ffdcdb',
  '#218358': '#d6f5e1',
  '#8145b5': '#eadcfb',
}
const penWidth = 3.5

function required<T extends Element>(selector: string): T {
  const found = document.querySelector<T>(selector)
  if (found === null) throw new Error(`page is missing ${selector}`)
  return found
}

async function main(): Promise<void> {
  const { session, status } = await startPage({
    defaultRoom: 'welcome-board',
    roomPrefix: 'board',
    appBase: new URL('..', location.href),
  })
  const model = new BoardModel(session.doc)
  const board = required<HTMLElement>('#board')
  const notesLayer = required<HTMLElement>('#notes')
  mountStrokeCanvas(required<HTMLCanvasElement>('#strokes'), model)
  mountNotesLayer(notesLayer, model)
  mountPointersLayer(required<HTMLElement>('#pointers'), session.awareness)
  trackOwnPointer(board, session.awareness)

  let tool: Tool = 'pen'
  let ink = inks[0]?.value ?? '#1c2024'
  let editable = true

  const tools = [...document.querySelectorAll<HTMLButtonElement>('.tool[data-tool]')]
  const selectTool = (next: Tool) => {
    tool = next
    board.dataset.tool = next
    for (const button of tools) button.setAttribute('aria-pressed', String(button.dataset.tool === next))
  }
  for (const button of tools) button.addEventListener('click', () => selectTool(button.dataset.tool as Tool))

  const swatches = required<HTMLElement>('.swatches')
  for (const color of inks) {
    const swatch = document.createElement('button')
    swatch.type = 'button'
    swatch.className = 'swatch'
    swatch.title = color.name
    swatch.setAttribute('aria-label', color.name)
    swatch.setAttribute('aria-pressed', String(color.value === ink))
    swatch.style.setProperty('--swatch', color.value)
    swatch.addEventListener('click', () => {
      ink = color.value
      for (const other of swatches.querySelectorAll('.swatch'))
        other.setAttribute('aria-pressed', String(other === swatch))
    })
    swatches.append(swatch)
  }

  const showEmptyHint = () => board.classList.toggle('is-empty', model.isEmpty())
  model.observe(showEmptyHint)
  showEmptyHint()

  let drawing: StrokeInProgress | null = null
  const boardPoint = (event: PointerEvent) => {
    const rect = board.getBoundingClientRect()
    return { x: event.clientX - rect.left, y: event.clientY - rect.top }
  }
  board.addEventListener('pointerdown', (event) => {
    if (!editable || event.button !== 0) return
    if (event.target instanceof Element && event.target.closest('.note') !== null) return
    if (tool === 'note') {
      const at = boardPoint(event)
      const id = model.addNote({ x: at.x - 20, y: at.y - 14 }, noteColors[ink] ?? '#fff1a8')
      requestAnimationFrame(() => focusNote(notesLayer, id))
      selectTool('pen')
      event.preventDefault()
      return
    }
    board.setPointerCapture(event.pointerId)
    drawing = model.beginStroke(ink, penWidth, boardPoint(event))
  })
  board.addEventListener('pointermove', (event) => {
    if (drawing === null) return
    // coalesced events keep fast strokes smooth on devices that batch pointer input
    const samples = event.getCoalescedEvents?.() ?? [event]
    for (const sample of samples.length > 0 ? samples : [event]) drawing.add(boardPoint(sample))
  })
  const endStroke = () => {
    drawing?.end()
    drawing = null
  }
  board.addEventListener('pointerup', endStroke)
  board.addEventListener('pointercancel', endStroke)

  const undo = required<HTMLButtonElement>('#undo')
  const redo = required<HTMLButtonElement>('#redo')
  const refreshHistory = () => {
    undo.disabled = !editable || !model.undoManager.canUndo()
    redo.disabled = !editable || !model.undoManager.canRedo()
  }
  for (const event of ['stack-item-added', 'stack-item-popped', 'stack-cleared'] as const) {
    model.undoManager.on(event, refreshHistory)
  }
  undo.addEventListener('click', () => model.undoManager.undo())
  redo.addEventListener('click', () => model.undoManager.redo())
  required<HTMLButtonElement>('#clear-board').addEventListener('click', () => {
    if (model.isEmpty()) return
    model.clear()
    showToast('Board cleared for everyone', { label: 'Undo', run: () => model.undoManager.undo() })
  })

  document.addEventListener('keydown', (event) => {
    const typing = event.target instanceof HTMLTextAreaElement || event.target instanceof HTMLInputElement
    if (typing) return
    const mod = event.metaKey || event.ctrlKey
    if (mod && event.key.toLowerCase() === 'z') {
      event.preventDefault()
      if (event.shiftKey) model.undoManager.redo()
      else model.undoManager.undo()
    } else if (mod && event.key.toLowerCase() === 'y') {
      event.preventDefault()
      model.undoManager.redo()
    } else if (!mod && event.key.toLowerCase() === 'p') selectTool('pen')
    else if (!mod && event.key.toLowerCase() === 'n') selectTool('note')
  })

  status.subscribe((current) => {
    editable = current.scope !== 'readonly'
    board.classList.toggle('read-only', !editable)
    refreshHistory()
  })
}

main().catch((error: unknown) => {
  console.error(error)
  document.body.dataset.failed = 'true'
})
