import type { DocSummary, DocsApi } from './docs-api.js'

/** Runs `task` now and every `ms` while the page is visible; again as soon as it becomes visible. */
export function whileVisible(task: () => Promise<void>, ms: number): void {
  let timer: ReturnType<typeof setInterval> | undefined
  const follow = () => {
    clearInterval(timer)
    timer = undefined
    if (document.visibilityState !== 'visible') return
    void task()
    timer = setInterval(() => void task(), ms)
  }
  document.addEventListener('visibilitychange', follow)
  follow()
}

/**
 * How often the sidebar asks for the list while the page is visible. Polling, because the server has no feed
 * of new rooms yet (`/api/docs/:room/events` follows one document); a list is one cheap request.
 */
export const notesPollMs = 3000

export interface NotesSidebar {
  /** Asks for the list now (after creating a note, or a first edit that makes the open note stored). */
  refresh(): Promise<void>
}

/**
 * Rooms the whiteboard page names (its default room and "New room" prefix) hold drawings, not a note's text:
 * left out, so the sidebar does not offer an empty editor for them. Any other name may be a note.
 */
export function isWhiteboardRoom(name: string): boolean {
  return name === 'welcome-board' || name.startsWith('board-')
}

/** Newest change first where the server knows it (documents in memory), the rest by name. */
export function sortNotes(notes: DocSummary[]): DocSummary[] {
  return [...notes].sort((a, b) => {
    if (a.lastChange !== null && b.lastChange !== null && a.lastChange !== b.lastChange)
      return a.lastChange < b.lastChange ? 1 : -1
    if (a.lastChange !== null && b.lastChange === null) return -1
    if (a.lastChange === null && b.lastChange !== null) return 1
    return a.name.localeCompare(b.name)
  })
}

function relativeTime(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  if (seconds < 60) return 'just now'
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`
  return new Date(iso).toLocaleString()
}

/** The list of notes at the left: each opens its room; the open one is marked; "New note" starts one. */
export function mountNotesSidebar(
  root: HTMLElement,
  api: DocsApi,
  openRoom: string,
  newNote: () => void,
): NotesSidebar {
  const list = root.querySelector<HTMLUListElement>('.notes-list')
  const problem = root.querySelector<HTMLElement>('.notes-problem')
  const create = root.querySelector<HTMLButtonElement>('#new-note')
  if (!list || !problem || !create) throw new Error('notes sidebar markup missing')
  create.addEventListener('click', newNote)

  const render = (listed: DocSummary[]) => {
    const notes = listed.filter((note) => !isWhiteboardRoom(note.name))
    // the open note is listed even before its first edit makes it a stored document
    const shown = notes.some((note) => note.name === openRoom)
      ? sortNotes(notes)
      : [{ name: openRoom, loaded: true, size: null, lastChange: null }, ...sortNotes(notes)]
    list.replaceChildren(
      ...shown.map((note) => {
        const item = document.createElement('li')
        const link = document.createElement('a')
        link.className = 'note-link'
        link.href = `#room=${encodeURIComponent(note.name)}`
        link.dataset.room = note.name
        if (note.name === openRoom) link.setAttribute('aria-current', 'page')
        const name = document.createElement('span')
        name.className = 'note-name'
        name.textContent = note.name
        const when = document.createElement('span')
        when.className = 'note-when'
        when.textContent = note.lastChange !== null ? relativeTime(note.lastChange) : ''
        link.append(name, when)
        item.append(link)
        return item
      }),
    )
    root.dataset.count = String(shown.length)
  }

  let inFlight: Promise<void> | null = null
  const refresh = (): Promise<void> => {
    inFlight ??= api
      .listDocs('')
      .then((notes) => {
        problem.textContent = ''
        render(notes)
      })
      .catch((error: unknown) => {
        problem.textContent = `Could not list notes: ${error instanceof Error ? error.message : String(error)}`
      })
      .finally(() => {
        inFlight = null
      })
    return inFlight
  }

  render([])
  whileVisible(refresh, notesPollMs)
  return { refresh }
}
