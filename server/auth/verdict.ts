// The verdict on a token for one room; filled in by the auth module (JWT) or an embedding app's hook.
export type AuthVerdict =
  | { ok: true; userId: string; canWrite: boolean }
  | { ok: false; code: 4401 | 4403; reason: string }
