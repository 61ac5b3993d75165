// The verdict on a token for one room; filled in by the auth module (JWT) or an embedding app's hook.
import type { IncomingMessage } from 'node:http'

export type AuthVerdict =
  | { ok: true; userId: string; canWrite: boolean }
  | { ok: false; code: 4401 | 4403; reason: string }

/** What the gateway asks for each socket's token: the verdict for that room (identity, then access). */
export type Verifier = (token: string, room: string, request: IncomingMessage) => Promise<AuthVerdict>
