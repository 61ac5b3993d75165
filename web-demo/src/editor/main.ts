import { startPage } from '../shared/start-page.js'
import { mountCollabEditor } from './collab-editor.js'

function button(id: string): HTMLButtonElement {
  const found = document.getElementById(id)
  if (!(found instanceof HTMLButtonElement)) throw new Error(`page is missing #${id}`)
  return found
}

async function main(): Promise<void> {
  const { session, status } = await startPage({
    defaultRoom: 'welcome',
    roomPrefix: 'notes',
    appBase: new URL('.', location.href),
  })
  const parent = document.getElementById('editor')
  if (parent === null) throw new Error('page is missing #editor')
  const editor = mountCollabEditor(parent, session.doc.getText('notes'), session.awareness)

  const undo = button('undo')
  const redo = button('redo')
  const refreshHistory = () => {
    undo.disabled = !editor.undoManager.canUndo()
    redo.disabled = !editor.undoManager.canRedo()
  }
  for (const event of ['stack-item-added', 'stack-item-popped', 'stack-cleared'] as const) {
    editor.undoManager.on(event, refreshHistory)
  }
  undo.addEventListener('click', () => {
    editor.undoManager.undo()
    editor.view.focus()
  })
  redo.addEventListener('click', () => {
    editor.undoManager.redo()
    editor.view.focus()
  })

  status.subscribe((current) => editor.setReadOnly(current.scope === 'readonly'))
  editor.view.focus()
}

main().catch((error: unknown) => {
  console.error(error)
  document.body.dataset.failed = 'true'
})
