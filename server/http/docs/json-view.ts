// A document's root types as JSON; each untyped root's kind is read from its content (root-kind.ts).
import * as Y from 'yjs'
import { kindOf } from '../../documents/root-kind.js'

/** The document's state read into a fresh Y.Doc (never the live room's, whose roots must stay untyped). */
export function docOf(state: Uint8Array): Y.Doc {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return doc
}

/** Every root type: Y.Text as a string, Y.Map as an object, Y.Array as an array, XML as its string. */
export function rootsAsJson(doc: Y.Doc): Record<string, unknown> {
  const roots: [string, unknown][] = []
  for (const name of [...doc.share.keys()].sort()) {
    const root = doc.share.get(name) as Y.AbstractType<unknown>
    const kind = root instanceof Y.Text ? 'text' : root instanceof Y.Map ? 'map' : kindOf(root)
    if (kind === 'text') roots.push([name, doc.getText(name).toString()])
    else if (kind === 'map') roots.push([name, doc.getMap(name).toJSON()])
    else if (kind === 'array') roots.push([name, doc.getArray(name).toJSON()])
    else roots.push([name, doc.getXmlFragment(name).toString()])
  }
  // Own properties whatever the names: a root named "__proto__" is a root like any other.
  return Object.fromEntries(roots)
}

/** The plain text of the Y.Text `name` ("" when there is none); null when that root is not text. */
export function textOf(doc: Y.Doc, name: string): string | null {
  const root = doc.share.get(name) as Y.AbstractType<unknown> | undefined
  if (root === undefined) return ''
  if (!(root instanceof Y.Text) && (root.constructor !== Y.AbstractType || kindOf(root) !== 'text'))
    return null
  return doc.getText(name).toString()
}
