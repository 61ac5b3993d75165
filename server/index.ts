// The public surface for embedding plait in another Node program.

export { LevelStore } from '../persistence/level/level-store.js'
export { MemoryDatabase, MemoryStore } from '../persistence/memory/memory-store.js'
export {
  type Compaction,
  compareRoomNames,
  type DocumentStore,
  type ListOptions,
  type LogEntry,
  type RoomInfo,
  type StoredRoom,
  type StoredVersion,
  StoreError,
  type VersionInfo,
  type WriteBatch,
  type WriteResult,
} from '../persistence/store.js'
export { type Access, AuthError, type Authenticate, type AuthIdentity } from './auth/authenticators.js'
// The plait command's reading of flags and environment: optionsFromCommandLine gives ServerOptions for
// createServer; loadConfig the flat resolved view (as `server.config`); defaultConfig the library's defaults.
export { defaults as defaultConfig, loadConfig, optionsFromCommandLine } from './cli/config.js'
export { mintToken } from './cli/token-command.js'
export type { DocumentHandle } from './documents/document-handle.js'
export type { DocumentEventMap, DocumentEventName, DocumentEvents } from './documents/events.js'
export type { Origin } from './documents/origin.js'
export { StorageFailedError } from './documents/store-health.js'
export { type RestoreResult, VersionError, type Versions } from './documents/versions.js'
export type { Extension, LoadContext } from './hooks/extension.js'
export type {
  AuthOptions,
  LimitOptions,
  LogLevel,
  ServerOptions,
  TuningOptions,
} from './options/options.js'
export { type Config, ConfigError } from './options/resolve.js'
export { createServer, PlaitServer } from './server.js'
export type { WebhookEvent } from './webhooks/payload.js'
export { verifyWebhook, type WebhookVerdict } from './webhooks/signing.js'
