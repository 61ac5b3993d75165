// The notes page as a small notes app in real Chromium: a sidebar of notes that follows new ones without a
// reload, and a versions panel whose restore lands while someone else is typing (README, Versions).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Page } from 'playwright-core'
import * as Y from 'yjs'
import { browserMissing, cspViolations, openPerson, useDemo } from './helpers/browser.js'
import {
  editorText,
  setName,
  typeInEditor,
  waitForSaved,
  waitForText,
  waitMs,
} from './helpers/editor-page.js'

interface ListedVersion {
  id: string
  name: string
}

async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + waitMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.fail(`timed out waiting for ${what}`)
}

async function openRoom(page: Page): Promise<string> {
  return (await page.locator('#room-name').textContent()) ?? ''
}

describe('the notes app: sidebar and versions', { skip: browserMissing }, () => {
  const demo = useDemo()

  test('a new note shows in the other sidebar; a version restored while someone types keeps their edits', async () => {
    const ada = await openPerson(demo.browser, `${demo.plait.url}/`)
    const bob = await openPerson(demo.browser, `${demo.plait.url}/`)
    await setName(ada.page, 'Ada')
    await setName(bob.page, 'Bob')
    await waitForSaved(bob.page)
    // marks Bob's page, so the sidebar is seen to change without a reload
    await bob.page.evaluate(() => Object.assign(window, { notLoadedAgain: true }))

    // Ada creates a note and types in it
    await ada.page.click('#new-note')
    await ada.page.waitForFunction(
      () => document.querySelector('#room-name')?.textContent !== 'welcome',
      null,
      {
        timeout: waitMs,
      },
    )
    await waitForSaved(ada.page)
    const room = await openRoom(ada.page)
    assert.match(room, /^notes-/)
    assert.equal(await ada.page.locator('.note-link[aria-current="page"]').getAttribute('data-room'), room)
    await typeInEditor(ada.page, 'First draft.')
    await waitForSaved(ada.page)

    // a whiteboard's room is stored too, but it is not a note
    const board = new Y.Doc()
    board.getArray('strokes').push(['a stroke'])
    const stored = await fetch(`${demo.plait.url}/api/docs/board-notanote/updates`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Y.encodeStateAsUpdate(board) as Uint8Array<ArrayBuffer>,
    })
    assert.equal(stored.status, 200)

    // Bob's sidebar lists it without a reload; clicking it opens the note
    const listed = bob.page.locator(`.note-link[data-room="${room}"]`)
    await listed.waitFor({ timeout: waitMs })
    await bob.page.waitForTimeout(3500) // one more poll, after the board was stored
    assert.equal(await bob.page.locator('.note-link[data-room="board-notanote"]').count(), 0)
    assert.equal(await bob.page.evaluate(() => 'notLoadedAgain' in window), true)
    await listed.click()
    await bob.page.waitForFunction(
      (name) => document.querySelector('#room-name')?.textContent === name,
      room,
      {
        timeout: waitMs,
      },
    )
    assert.equal(new URL(bob.page.url()).hash, `#room=${room}`)
    await waitForText(bob.page, 'First draft.')

    // Ada saves a version, then keeps writing
    await ada.page.fill('input[name="version-name"]', 'draft one')
    await ada.page.click('.version-save button[type="submit"]')
    await ada.page.locator('.version .version-name:text("draft one")').waitFor({ timeout: waitMs })
    await typeInEditor(ada.page, ' Later edit by Ada.')
    await waitForText(bob.page, 'Later edit by Ada.')
    await waitForSaved(ada.page)

    // Bob previews the version (the old text, read-only) while the editor shows the current one
    const bobVersion = bob.page.locator('.version', { hasText: 'draft one' })
    await bobVersion.waitFor({ timeout: waitMs })
    assert.match((await bobVersion.locator('.version-meta').textContent()) ?? '', /\d.*·/)
    await bobVersion.locator('.version-preview-button').click()
    await waitUntil('the preview text', async () =>
      ((await bob.page.locator('.version-preview-text').textContent()) ?? '').startsWith('First'),
    )
    assert.equal(await bob.page.locator('.version-preview-text').textContent(), 'First draft.')
    assert.equal(
      await bob.page.locator('.version-preview-text').evaluate((e) => (e as HTMLElement).isContentEditable),
      false,
    )

    // Ada types one word at a time while Bob restores; each word is one insert
    const words = Array.from({ length: 16 }, (_, i) => ` w${i}`)
    await ada.page.locator('.cm-content').click()
    const typing = (async () => {
      for (const word of words) {
        await ada.page.keyboard.press('Control+End')
        await ada.page.keyboard.insertText(word)
        await ada.page.waitForTimeout(150)
      }
    })()
    await ada.page.waitForTimeout(700)
    await bob.page.click('.version-restore')
    await typing
    await waitForSaved(ada.page)
    await waitForSaved(bob.page)
    await waitUntil(
      'both editors to agree',
      async () => (await editorText(ada.page)) === (await editorText(bob.page)),
    )

    const live = await editorText(ada.page)
    const server = await fetch(
      `${demo.plait.url}/api/docs/${encodeURIComponent(room)}?format=text&name=notes`,
    )
    assert.equal(await server.text(), live, 'the editors show what the server has')
    const versions = (await (
      await fetch(`${demo.plait.url}/api/docs/${encodeURIComponent(room)}/versions`)
    ).json()) as { versions: ListedVersion[] }
    const before = versions.versions.find((v) => v.name === 'before restoring "draft one"')
    assert.ok(before, `the restore kept the text before it: ${JSON.stringify(versions.versions)}`)
    const beforeText = await (
      await fetch(
        `${demo.plait.url}/api/docs/${encodeURIComponent(room)}/versions/${before.id}?format=text&name=notes`,
      )
    ).text()

    // restore replaces the text with the version's: the edit made after the version is gone from the live text…
    assert.ok(live.startsWith('First draft.'), live)
    assert.ok(!live.includes('Later edit by Ada.'), live)
    // …but kept in the version made just before the restore, together with the words that reached the server first
    assert.ok(beforeText.startsWith('First draft. Later edit by Ada.'), beforeText)
    // every word Ada typed is in exactly one of them: the concurrent ones stay, after the restored text
    const kept = words.filter((word) => live.includes(`${word} `) || live.endsWith(word))
    const replaced = words.filter((word) => beforeText.includes(`${word} `) || beforeText.endsWith(word))
    assert.deepEqual([...kept, ...replaced].sort(), [...words].sort(), `live ${live}; before ${beforeText}`)
    assert.equal(live, `First draft.${kept.join('')}`)
    assert.ok(kept.length > 0 && replaced.length > 0, 'Ada was typing while the restore happened')

    // the editors are live after it, and Bob's list shows the version to undo the restore with
    await typeInEditor(ada.page, ' after the restore')
    await waitForText(bob.page, 'after the restore')
    const undoRestore = bob.page.locator('.version', { hasText: 'before restoring' })
    await undoRestore.waitFor({ timeout: waitMs })
    await undoRestore.locator('.version-preview-button').click()
    await waitUntil('the before-restore preview', async () =>
      ((await bob.page.locator('.version-preview-text').textContent()) ?? '').includes('Later edit by Ada.'),
    )
    await bob.page.screenshot({ path: '/tmp/notes-app.png' })

    assert.deepEqual(await cspViolations(ada.page), [])
    assert.deepEqual(await cspViolations(bob.page), [])
    await Promise.all([ada.context.close(), bob.context.close()])
  })
})
