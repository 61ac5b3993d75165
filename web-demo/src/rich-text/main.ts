import type { Editor } from '@tiptap/core'
import { mountPresenceList } from '../shared/presence-list.js'
import { startPageChrome } from '../shared/start-page.js'
import { renderStatusBadge } from '../shared/status-badge.js'
import { watchCaretLabels } from './caret-labels.js'
import { openHocuspocusSession } from './hocuspocus-session.js'
import { mountRichEditor } from './rich-editor.js'

type Command = 'bold' | 'italic' | 'heading' | 'bulletList' | 'blockquote' | 'undo' | 'redo'

function run(editor: Editor, command: Command): void {
  const chain = editor.chain().focus()
  if (command === 'bold') chain.toggleBold().run()
  else if (command === 'italic') chain.toggleItalic().run()
  else if (command === 'heading') chain.toggleHeading({ level: 2 }).run()
  else if (command === 'bulletList') chain.toggleBulletList().run()
  else if (command === 'blockquote') chain.toggleBlockquote().run()
  else if (command === 'undo') chain.undo().run()
  else chain.redo().run()
}

/** Keeps the toolbar in step with the selection: pressed marks, and undo/redo only when there is something. */
function mountToolbar(editor: Editor): void {
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('.rich-toolbar [data-command]')]
  const refresh = () => {
    for (const button of buttons) {
      const command = button.dataset.command as Command
      if (command === 'undo') button.disabled = !editor.can().undo()
      else if (command === 'redo') button.disabled = !editor.can().redo()
      else {
        const active =
          command === 'heading' ? editor.isActive('heading', { level: 2 }) : editor.isActive(command)
        button.setAttribute('aria-pressed', String(active))
        button.disabled = !editor.isEditable
      }
    }
  }
  for (const button of buttons) {
    // keep the editor's selection: a mousedown on the button would otherwise blur it first
    button.addEventListener('mousedown', (event) => event.preventDefault())
    button.addEventListener('click', () => run(editor, button.dataset.command as Command))
  }
  editor.on('transaction', refresh)
  refresh()
}

async function main(): Promise<void> {
  const appBase = new URL('..', location.href)
  const chrome = await startPageChrome({ defaultRoom: 'rich-text', roomPrefix: 'doc', appBase })
  const session = await openHocuspocusSession({
    room: chrome.room,
    appBase,
    identity: chrome.identity(),
    token: chrome.token,
    onAuthError: async (reason) => {
      await chrome.askForNewToken(
        'Your token was not accepted',
        `The server said: ${reason || 'bad or expired token'}. Paste a valid token to continue.`,
      )
    },
  })
  session.status.subscribe((current) => renderStatusBadge(chrome.badge, chrome.detailLine, current))
  const presence = document.getElementById('presence')
  if (presence === null) throw new Error('page is missing #presence')
  mountPresenceList(presence, session.awareness)

  const parent = document.getElementById('rich-editor')
  if (parent === null) throw new Error('page is missing #rich-editor')
  const editor = mountRichEditor(parent, session.doc, session.provider, chrome.identity())
  watchCaretLabels(parent, session.awareness)
  // the caret extension owns the awareness 'user' field: rename through it
  chrome.onRename((identity) => editor.commands.updateUser(identity))
  session.status.subscribe((current) => {
    const editable = current.scope !== 'readonly'
    if (editor.isEditable !== editable) editor.setEditable(editable)
  })
  mountToolbar(editor)
  editor.commands.focus('end')
}

main().catch((error: unknown) => {
  console.error(error)
  document.body.dataset.failed = 'true'
})
