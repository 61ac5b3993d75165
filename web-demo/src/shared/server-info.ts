/** What the page needs to know about the server before connecting (`GET /api/info`). */
export interface ServerInfo {
  auth: 'token' | 'open'
}

const rememberedKey = 'plait:auth-mode'

/**
 * Asks the server whether it wants a token. A server without the route is treated as open; when the server
 * cannot be reached (offline reload) the answer from the last visit is used.
 */
export async function fetchServerInfo(appBase: URL): Promise<ServerInfo> {
  try {
    const response = await fetch(new URL('api/info', appBase), {
      cache: 'no-store',
      signal: AbortSignal.timeout(4000),
    })
    const info: ServerInfo = { auth: 'open' }
    if (response.ok) {
      const body = (await response.json()) as { auth?: unknown }
      if (body.auth === 'token') info.auth = 'token'
    }
    localStorage.setItem(rememberedKey, info.auth)
    return info
  } catch {
    return { auth: localStorage.getItem(rememberedKey) === 'token' ? 'token' : 'open' }
  }
}
