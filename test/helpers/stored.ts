// Reading a room straight from a data directory, as the next start would (the server must be stopped).
import * as Y from 'yjs'
import { LevelStore } from '../../persistence/level/level-store.js'

export async function readStored(dataDir: string, room: string) {
  const store = new LevelStore(dataDir)
  await store.open()
  try {
    const stored = await store.load(room)
    const doc = new Y.Doc()
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const u of stored.updates) Y.applyUpdate(doc, u)
    return { stored, doc, text: doc.getText('t').toString() }
  } finally {
    await store.close()
  }
}
