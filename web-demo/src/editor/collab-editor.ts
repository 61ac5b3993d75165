import { defaultKeymap, indentWithTab } from '@codemirror/commands'
import { Compartment, EditorState } from '@codemirror/state'
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightSpecialChars,
  keymap,
  placeholder,
} from '@codemirror/view'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { remoteCursorLabels } from './remote-cursor-labels.js'

/** Remote carets show their owner's name in the page's typeface (kept current and hidden when idle by remote-cursor-labels). */
const remoteCaretTheme = EditorView.theme({
  '.cm-ySelectionInfo': {
    opacity: '1',
    top: '-1.45em',
    left: '-1px',
    padding: '1px 6px',
    borderRadius: '4px 4px 4px 0',
    fontFamily: 'var(--font-ui)',
    fontSize: '11px',
    fontWeight: '600',
    lineHeight: '1.4',
    letterSpacing: '0.01em',
  },
  '.cm-ySelectionCaret': { borderLeftWidth: '2px', borderRightWidth: '0', marginLeft: '-1px' },
  '.cm-ySelectionCaretDot': { display: 'none' },
})

export interface CollabEditor {
  view: EditorView
  undoManager: Y.UndoManager
  setReadOnly(readOnly: boolean): void
}

/** A CodeMirror 6 editor bound to a shared Y.Text: remote cursors, and undo that only takes back your edits. */
export function mountCollabEditor(parent: HTMLElement, ytext: Y.Text, awareness: Awareness): CollabEditor {
  const undoManager = new Y.UndoManager(ytext)
  const editability = new Compartment()
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: ytext.toString(),
      extensions: [
        highlightSpecialChars(),
        drawSelection(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': 'Shared notes', spellcheck: 'true' }),
        placeholder('Start typing — everyone in this room sees it as you write.'),
        keymap.of([...yUndoManagerKeymap, ...defaultKeymap, indentWithTab]),
        yCollab(ytext, awareness, { undoManager }),
        remoteCaretTheme,
        remoteCursorLabels(awareness),
        editability.of([]),
      ],
    }),
  })
  let readOnlyNow = false
  return {
    view,
    undoManager,
    setReadOnly(readOnly) {
      if (readOnly === readOnlyNow) return
      readOnlyNow = readOnly
      // status changes can arrive from inside an editor update (a local edit); dispatch after it
      queueMicrotask(() =>
        view.dispatch({
          effects: editability.reconfigure(
            readOnly ? [EditorState.readOnly.of(true), EditorView.editable.of(false)] : [],
          ),
        }),
      )
    },
  }
}
