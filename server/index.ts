// The public surface for embedding plait in another Node program.

export { LevelStore } from '../persistence/level-store.js'
export type { DocumentStore, StoredRoom, WriteBatch } from '../persistence/store.js'
export { type Access, AuthError, type Authenticate, type AuthIdentity } from './auth.js'
export { type Config, defaults as defaultConfig, loadConfig } from './config.js'
export { createServer, PlaitServer, type ServerOptions } from './server.js'
export { StorageFailedError } from './store-health.js'
export { mintToken } from './token-command.js'
