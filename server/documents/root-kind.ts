// What a root type of a document read from an update is. Such roots are untyped (Yjs learns a root's type
// only when code asks for it with getText, getMap…), so the kind is read from the root's content.
import * as Y from 'yjs'

export type RootKind = 'text' | 'map' | 'array' | 'xml'

const isXml = (type: unknown) =>
  type instanceof Y.XmlElement || type instanceof Y.XmlText || type instanceof Y.XmlHook

/** The kind of a root from its first item that says: strings and formats are text, XML nodes are XML. */
export function kindOf(root: Y.AbstractType<unknown>): RootKind {
  for (let item = root._start; item !== null; item = item.right) {
    const content = item.content
    if (content instanceof Y.ContentDeleted) continue
    if (
      content instanceof Y.ContentString ||
      content instanceof Y.ContentFormat ||
      content instanceof Y.ContentEmbed
    )
      return 'text'
    if (content instanceof Y.ContentType && isXml(content.type)) return 'xml'
    return 'array'
  }
  // Only map entries, or nothing visible: an empty sequence reads as an empty string.
  return root._map.size > 0 ? 'map' : 'text'
}
