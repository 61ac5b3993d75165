import { DocsApi } from '../notes/docs-api.js'
import { mountNotesSidebar, notesPollMs, whileVisible } from '../notes/notes-sidebar.js'
import { mountVersionsPanel } from '../notes/versions-panel.js'
import { newRoomName } from '../shared/room-link.js'
import { startPage } from '../shared/start-page.js'
import { mountCollabEditor } from './collab-editor.js'

/** The Y.Text the editor edits; the versions panel previews the same one. */
const textName = 'notes'

function element(id: string): HTMLElement {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`page is missing #${id}`)
  return found
}

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
  const editor = mountCollabEditor(element('editor'), session.doc.getText(textName), session.awareness)

  const appBase = new URL('.', location.href)
  const api = new DocsApi(appBase)
  const room = session.room
  // a new note is a new room: the page starts afresh there (start-page reloads on a hash change)
  const sidebar = mountNotesSidebar(element('notes-sidebar'), api, room, () => {
    location.hash = `room=${encodeURIComponent(newRoomName('notes'))}`
  })
  // the first edit makes a new note a stored document: list it soon after rather than at the next poll
  const onFirstEdit = (_update: Uint8Array, origin: unknown) => {
    if (origin === session.provider) return
    session.doc.off('update', onFirstEdit)
    setTimeout(() => void sidebar.refresh(), 800)
  }
  session.doc.on('update', onFirstEdit)
  const versions = mountVersionsPanel(element('versions-panel'), api, room, textName)
  whileVisible(versions.refresh, notesPollMs)

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
