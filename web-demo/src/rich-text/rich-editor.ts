import type { HocuspocusProvider } from '@hocuspocus/provider'
import { Editor } from '@tiptap/core'
import Collaboration from '@tiptap/extension-collaboration'
import CollaborationCaret from '@tiptap/extension-collaboration-caret'
import { Placeholder } from '@tiptap/extensions'
import StarterKit from '@tiptap/starter-kit'
import type * as Y from 'yjs'
import type { Identity } from '../shared/identity.js'

/** The Y.XmlFragment the document lives in; the notes page's Y.Text of the same room is a separate field. */
export const richTextField = 'rich-text'

/** A remote caret: a coloured bar with its owner's name above it (styled in rich-text.css). */
function renderCaret(user: Record<string, unknown>): HTMLElement {
  const color = typeof user.color === 'string' ? user.color : 'transparent'
  const caret = document.createElement('span')
  caret.className = 'collaboration-carets__caret'
  caret.style.borderColor = color
  const label = document.createElement('span')
  label.className = 'collaboration-carets__label'
  label.style.backgroundColor = color
  label.textContent = typeof user.name === 'string' ? user.name : 'Someone'
  caret.append(label)
  return caret
}

/**
 * A Tiptap editor on the shared document: the starter kit without its own history (Collaboration's undo
 * takes back only your edits, a shared history would undo other people's), carets named from awareness.
 */
export function mountRichEditor(
  parent: HTMLElement,
  doc: Y.Doc,
  provider: HocuspocusProvider,
  identity: Identity,
): Editor {
  return new Editor({
    element: parent,
    extensions: [
      StarterKit.configure({ undoRedo: false, link: { openOnClick: false } }),
      Placeholder.configure({ placeholder: 'Start writing — everyone in this room sees it as you type.' }),
      Collaboration.configure({ document: doc, field: richTextField }),
      CollaborationCaret.configure({ provider, user: identity, render: renderCaret }),
    ],
    editorProps: { attributes: { 'aria-label': 'Shared document', spellcheck: 'true' } },
  })
}
