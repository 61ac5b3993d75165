// Restoring a version: the change that turns the current document into the version's content, made as
// ordinary Yjs operations (deletes of what is there, inserts of what the version held), so every client
// merges it like any edit and keeps what it does concurrently. Computed on a copy of the document, so the
// live room's roots stay untyped (Yjs fixes a root's type the first time code asks for it).
import { isDeepStrictEqual } from 'node:util'
import * as Y from 'yjs'
import { kindOf, type RootKind } from './root-kind.js'
import { encodeIntegratedState } from './yjs-state.js'

type Root = Y.AbstractType<unknown>

function hasContent(root: Root): boolean {
  for (let item = root._start; item !== null; item = item.right) if (!item.deleted) return true
  for (const item of root._map.values()) if (!item.deleted) return true
  return false
}

/** A value of the version's document as a new value for the copy (a Y type belongs to one document). */
function copied(value: unknown): unknown {
  if (value instanceof Y.AbstractType) return value.clone()
  if (value instanceof Y.Doc) return new Y.Doc({ guid: value.guid, meta: value.meta })
  return value
}

function replaceText(target: Y.Text, source: Y.Text): void {
  const delta = (source.toDelta() as { insert: unknown; attributes?: object }[]).map((op) => ({
    ...op,
    insert: copied(op.insert),
  }))
  target.delete(0, target.length)
  target.applyDelta(delta)
}

function replaceMap(target: Y.Map<unknown>, source: Y.Map<unknown>): void {
  for (const key of [...target.keys()]) if (!source.has(key)) target.delete(key)
  for (const [key, value] of source.entries()) {
    // An equal plain value is left alone: nobody's concurrent change of that key is overwritten for nothing.
    const same =
      !(value instanceof Y.AbstractType || value instanceof Y.Doc) &&
      target.has(key) &&
      isDeepStrictEqual(target.get(key), value)
    if (!same) target.set(key, copied(value))
  }
}

function replaceSequence(
  target: Y.Array<unknown> | Y.XmlFragment,
  source: Y.Array<unknown> | Y.XmlFragment,
): void {
  target.delete(0, target.length)
  target.insert(0, source.toArray().map(copied) as never[])
}

function replaceRoot(working: Y.Doc, version: Y.Doc, name: string, kind: RootKind): void {
  if (kind === 'text') replaceText(working.getText(name), version.getText(name))
  else if (kind === 'map') replaceMap(working.getMap(name), version.getMap(name))
  else if (kind === 'array') replaceSequence(working.getArray(name), version.getArray(name))
  else replaceSequence(working.getXmlFragment(name), version.getXmlFragment(name))
}

/**
 * The update that makes `current` hold what `versionState` holds, root by root: a root the version has
 * gets its content replaced by the version's; a root only the current document has is emptied. Apply it to
 * `current` in the same transaction (synchronously), or it may be computed against a stale state.
 */
export function restoreUpdate(current: Y.Doc, versionState: Uint8Array): Uint8Array {
  const working = new Y.Doc()
  const version = new Y.Doc()
  try {
    Y.applyUpdate(working, encodeIntegratedState(current))
    Y.applyUpdate(version, versionState)
    const names = new Set([...working.share.keys(), ...version.share.keys()])
    working.transact(() => {
      for (const name of [...names].sort()) {
        const fromVersion = version.share.get(name) as Root | undefined
        const fromCurrent = working.share.get(name) as Root | undefined
        const versionHas = fromVersion !== undefined && hasContent(fromVersion)
        const currentHas = fromCurrent !== undefined && hasContent(fromCurrent)
        if (!versionHas && !currentHas) continue
        // An empty root reads as text: the kind is that of whichever side has content, the version first.
        const kindSource = (versionHas ? fromVersion : fromCurrent) as Root
        replaceRoot(working, version, name, kindOf(kindSource))
      }
    })
    return Y.encodeStateAsUpdate(working, Y.encodeStateVector(current))
  } finally {
    working.destroy()
    version.destroy()
  }
}
