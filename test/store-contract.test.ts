// Every store plait ships passes the one storage contract (persistence/contract.ts): LevelDB in a temp
// directory, one writer per directory, and the in-memory store, with a second writer on the same data.
import { describeStoreContract } from '../persistence/contract.js'
import { LevelStore } from '../persistence/level/level-store.js'
import { MemoryDatabase, MemoryStore } from '../persistence/memory/memory-store.js'
import { removeDir, tempDir } from './helpers/server.js'

describeStoreContract('LevelStore', async () => {
  const dir = tempDir()
  const store = new LevelStore(dir)
  await store.open()
  return {
    store,
    dispose: async () => {
      await store.close()
      removeDir(dir)
    },
  }
})

describeStoreContract('MemoryStore, two writers on one database', async () => {
  const database = new MemoryDatabase()
  const store = new MemoryStore(database)
  const otherWriter = new MemoryStore(database)
  await store.open()
  await otherWriter.open()
  return { store, otherWriter, dispose: async () => {} }
})
