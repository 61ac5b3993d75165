import { loadSavedToken } from '../shared/auth-dialog.js'

/** One stored document as `GET /api/docs` lists it; `lastChange` is known only for documents in memory. */
export interface DocSummary {
  name: string
  loaded: boolean
  size: number | null
  lastChange: string | null
}

/** One named version as `GET /api/docs/:room/versions` lists it (newest first). */
export interface VersionSummary {
  id: string
  name: string
  createdAt: string
  createdBy: string | null
  size: number
}

/** A refusal from the document API: its HTTP status and the server's sentence. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** The document API of the server the page came from, with the page's saved token in auth mode. */
export class DocsApi {
  constructor(private readonly appBase: URL) {}

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    const token = loadSavedToken()
    if (token !== null) headers.set('Authorization', `Bearer ${token}`)
    const response = await fetch(new URL(`api/docs${path}`, this.appBase), {
      ...init,
      headers,
      cache: 'no-store',
      signal: AbortSignal.timeout(8000),
    })
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { message?: string }
      throw new ApiProblem(response.status, body.message ?? `${response.status} ${response.statusText}`)
    }
    return response
  }

  /** Every document the caller may read whose name starts with `prefix`, following `next` page by page. */
  async listDocs(prefix: string): Promise<DocSummary[]> {
    const rooms: DocSummary[] = []
    let after: string | undefined
    do {
      const query = new URLSearchParams({ prefix, limit: '1000' })
      if (after !== undefined) query.set('after', after)
      const page = (await (await this.call(`?${query}`)).json()) as { rooms: DocSummary[]; next?: string }
      rooms.push(...page.rooms)
      after = page.next
    } while (after !== undefined && rooms.length < 5000)
    return rooms
  }

  async listVersions(room: string): Promise<VersionSummary[]> {
    const body = (await (await this.call(`/${encodeURIComponent(room)}/versions`)).json()) as {
      versions: VersionSummary[]
    }
    return body.versions
  }

  async saveVersion(room: string, name: string): Promise<string> {
    const response = await this.call(`/${encodeURIComponent(room)}/versions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name }),
    })
    return ((await response.json()) as { id: string }).id
  }

  async versionText(room: string, id: string, textName: string): Promise<string> {
    const query = new URLSearchParams({ format: 'text', name: textName })
    const response = await this.call(
      `/${encodeURIComponent(room)}/versions/${encodeURIComponent(id)}?${query}`,
    )
    return response.text()
  }

  /** Makes the version current again; answers the id of the version kept of the document just before. */
  async restoreVersion(room: string, id: string): Promise<string> {
    const response = await this.call(
      `/${encodeURIComponent(room)}/versions/${encodeURIComponent(id)}/restore`,
      { method: 'POST' },
    )
    return ((await response.json()) as { before: string }).before
  }
}
