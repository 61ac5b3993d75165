// The public surface for embedding plait in another Node program.

export { LevelStore } from '../persistence/level/level-store.js'
export { MemoryDatabase, MemoryStore } from '../persistence/memory/memory-store.js'
export {
  type Compaction,
  compareRoomNames,
  type DocumentStore,
  type ListOptions,
  type LogEntry,
  type StoredRoom,
  StoreError,
  type WriteBatch,
  type WriteResult,
} from '../persistence/store.js'
export { type Access, AuthError, type Authenticate, type AuthIdentity } from './auth/authenticators.js'
export { type Config, defaults as defaultConfig, loadConfig } from './cli/config.js'
export { mintToken } from './cli/token-command.js'
export { StorageFailedError } from './documents/store-health.js'
export { createServer, PlaitServer, type ServerOptions } from './server.js'
