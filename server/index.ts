// The public surface for embedding plait in another Node program.

export { LevelStore } from '../persistence/level-store.js'
export type { DocumentStore, StoredRoom, WriteBatch } from '../persistence/store.js'
export { type Access, AuthError, type Authenticate, type AuthIdentity } from './auth/authenticators.js'
export { type Config, defaults as defaultConfig, loadConfig } from './cli/config.js'
export { mintToken } from './cli/token-command.js'
export type { DocumentHandle } from './documents/document-handle.js'
export type { DocumentEventMap, DocumentEventName, DocumentEvents } from './documents/events.js'
export type { Origin } from './documents/origin.js'
export { StorageFailedError } from './documents/store-health.js'
export { createServer, PlaitServer, type ServerOptions } from './server.js'
export type { WebhookEvent } from './webhooks/payload.js'
export { verifyWebhook, type WebhookVerdict } from './webhooks/signing.js'
