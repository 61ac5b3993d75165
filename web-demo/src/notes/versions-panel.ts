import { showToast } from '../shared/toast.js'
import { ApiProblem, type DocsApi, type VersionSummary } from './docs-api.js'

export interface VersionsPanel {
  refresh(): Promise<void>
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function part<T extends HTMLElement>(root: HTMLElement, selector: string): T {
  const found = root.querySelector<T>(selector)
  if (found === null) throw new Error(`versions panel is missing ${selector}`)
  return found
}

/**
 * The open note's named versions: save one, preview its text read-only, restore it. A restore is a server-side
 * edit broadcast like any other, so the live editor follows it by itself; the panel only lists the version the
 * server kept of the text just before (restoring that one undoes the restore).
 */
export function mountVersionsPanel(
  root: HTMLElement,
  api: DocsApi,
  room: string,
  textName: string,
): VersionsPanel {
  const form = part<HTMLFormElement>(root, '.version-save')
  const nameInput = part<HTMLInputElement>(root, 'input[name="version-name"]')
  const list = part<HTMLUListElement>(root, '.versions-list')
  const problem = part<HTMLElement>(root, '.versions-problem')
  const preview = part<HTMLElement>(root, '.version-preview')
  const previewTitle = part<HTMLElement>(preview, '.version-preview-title')
  const previewText = part<HTMLElement>(preview, '.version-preview-text')
  const previewRestore = part<HTMLButtonElement>(preview, '.version-restore')
  part<HTMLButtonElement>(preview, '.version-preview-close').addEventListener('click', () => {
    preview.hidden = true
  })

  let previewing: VersionSummary | null = null

  const restore = async (version: VersionSummary) => {
    try {
      await api.restoreVersion(room, version.id)
      showToast(`Restored “${version.name}” — the text before it is kept as a version`)
      preview.hidden = true
      await refresh()
    } catch (error) {
      problem.textContent = `Could not restore: ${message(error)}`
    }
  }

  const show = async (version: VersionSummary) => {
    previewing = version
    previewTitle.textContent = version.name
    previewText.textContent = 'Loading…'
    preview.hidden = false
    preview.dataset.version = version.id
    try {
      const text = await api.versionText(room, version.id, textName)
      if (previewing === version) previewText.textContent = text
    } catch (error) {
      previewText.textContent = `Could not read it: ${message(error)}`
    }
  }
  previewRestore.addEventListener('click', () => {
    if (previewing !== null) void restore(previewing)
  })

  const row = (version: VersionSummary): HTMLLIElement => {
    const item = document.createElement('li')
    item.className = 'version'
    item.dataset.id = version.id
    const name = document.createElement('span')
    name.className = 'version-name'
    name.textContent = version.name
    const meta = document.createElement('span')
    meta.className = 'version-meta'
    const time = new Date(version.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    meta.textContent = `${time} · ${version.createdBy ?? 'anonymous'}`
    meta.title = new Date(version.createdAt).toLocaleString()
    const actions = document.createElement('span')
    actions.className = 'version-actions'
    const previewButton = document.createElement('button')
    previewButton.type = 'button'
    previewButton.className = 'button small version-preview-button'
    previewButton.textContent = 'Preview'
    previewButton.addEventListener('click', () => void show(version))
    const restoreButton = document.createElement('button')
    restoreButton.type = 'button'
    restoreButton.className = 'button small version-restore-button'
    restoreButton.textContent = 'Restore'
    restoreButton.addEventListener('click', () => void restore(version))
    actions.append(previewButton, restoreButton)
    item.append(name, meta, actions)
    return item
  }

  async function refresh(): Promise<void> {
    try {
      const versions = await api.listVersions(room)
      list.replaceChildren(...versions.map(row))
      root.dataset.count = String(versions.length)
      problem.textContent = ''
    } catch (error) {
      // a note nobody has written yet has no versions (and no document): not a problem worth showing
      list.replaceChildren()
      root.dataset.count = '0'
      if (!/not found|404/i.test(message(error)))
        problem.textContent = `Could not list versions: ${message(error)}`
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const name = nameInput.value.trim()
    if (name.length === 0) {
      nameInput.focus()
      return
    }
    try {
      await api.saveVersion(room, name)
      nameInput.value = ''
      showToast(`Saved version “${name}”`)
      await refresh()
    } catch (error) {
      problem.textContent =
        error instanceof ApiProblem && error.status === 404
          ? 'Type something first: an empty note has nothing to keep.'
          : `Could not save the version: ${message(error)}`
    }
  })

  return { refresh }
}
