// The editor demo on a plait server that requires tokens: it asks for one, explains refusals instead of
// retrying, and respects read-only access.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Page } from 'playwright-core'
import { mintToken } from '../server/cli/token-command.js'
import { browserMissing, openPerson, screenshot, uniqueRoom, useDemo } from './helpers/browser.js'
import {
  editorText,
  enterToken,
  typeInEditor,
  waitForSaved,
  waitForText,
  waitMs,
} from './helpers/editor-page.js'

const secret = 'demo-auth-test-secret-0123456789abcdef'

/** A token for `docs`, signed with the server's secret, as an app would mint one (plait token). */
const mint = (docs: Record<string, 'read' | 'write'>) =>
  mintToken({ secret, sub: 'demo-test', docs, ttlSeconds: 600 })

/** Counts the WebSocket connections a page opens, to tell a stop from a retry loop. */
function countSockets(page: Page): () => number {
  let count = 0
  page.on('websocket', () => count++)
  return () => count
}

describe('the editor demo on a server that requires tokens', { skip: browserMissing }, () => {
  const demo = useDemo(['--auth-secret', secret])

  test('the page asks for a token; with a valid one two people edit together', async () => {
    const room = uniqueRoom('secure')
    const token = await mint({ [room]: 'write' })
    const ada = await openPerson(demo.browser, `${demo.plait.url}/#room=${room}`)
    await ada.page.waitForSelector('#auth-dialog[open]', { timeout: waitMs })
    await screenshot(ada.page, 'auth-token-prompt')
    await enterToken(ada.page, token)
    await waitForSaved(ada.page)
    await typeInEditor(ada.page, 'Only people with a token see this.')

    // a link with the token in the fragment connects without asking, and the token leaves the address bar
    const bob = await openPerson(demo.browser, `${demo.plait.url}/#room=${room}&token=${token}`)
    await waitForText(bob.page, 'Only people with a token see this.')
    assert.equal(await bob.page.evaluate(() => location.hash), `#room=${room}`)
    assert.equal(await bob.page.locator('#auth-dialog[open]').count(), 0)
    await Promise.all([ada.context.close(), bob.context.close()])
  })

  test('a forged token is refused with the reason and the page stops instead of retrying', async () => {
    const room = uniqueRoom('secure')
    const forged = `${(await mint({ [room]: 'write' })).slice(0, -4)}AAAA`
    const context = await demo.browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    const sockets = countSockets(page)
    await page.goto(`${demo.plait.url}/#room=${room}&token=${forged}`)
    await page.waitForSelector('#auth-dialog[open]', { timeout: waitMs })
    assert.equal(
      await page.locator('#auth-dialog .dialog-title').textContent(),
      'Your token was not accepted',
    )
    assert.match((await page.locator('#auth-dialog .dialog-message').textContent()) ?? '', /signature/)
    await page.waitForSelector('#status[data-connection="denied"]')
    await screenshot(page, 'auth-token-refused')
    // a window for a retry that must not come: y-websocket's backoff would retry several times within it
    await page.waitForTimeout(2000)
    assert.equal(sockets(), 1, 'one attempt, no retry loop')

    // a valid token from the same dialog gets in
    await enterToken(page, await mint({ [room]: 'write' }))
    await waitForSaved(page)
    await context.close()
  })

  test('a token for other rooms says there is no access to this one', async () => {
    const room = uniqueRoom('secure')
    const elsewhere = await mint({ 'other-team/*': 'write' })
    const person = await openPerson(demo.browser, `${demo.plait.url}/#room=${room}&token=${elsewhere}`)
    await person.page.waitForSelector('#auth-dialog[open]', { timeout: waitMs })
    assert.equal(
      await person.page.locator('#auth-dialog .dialog-title').textContent(),
      'No access to this room',
    )
    assert.match(
      (await person.page.locator('#auth-dialog .dialog-message').textContent()) ?? '',
      new RegExp(room),
    )
    await person.context.close()
  })

  test('a read-only token shows the document live but does not let you type', async () => {
    const room = uniqueRoom('secure')
    const writer = await openPerson(
      demo.browser,
      `${demo.plait.url}/#room=${room}&token=${await mint({ [room]: 'write' })}`,
    )
    const reader = await openPerson(
      demo.browser,
      `${demo.plait.url}/#room=${room}&token=${await mint({ [room]: 'read' })}`,
    )
    await typeInEditor(writer.page, 'Read me.')
    await waitForText(reader.page, 'Read me.')
    await reader.page.waitForSelector(
      '#status[data-connection="connected"] .status-label:text("Read-only")',
      {
        timeout: waitMs,
      },
    )
    await reader.page.locator('.cm-content').click()
    await reader.page.keyboard.type('sneaky', { delay: 10 })
    await typeInEditor(writer.page, ' And this.')
    await waitForText(reader.page, 'And this.')
    assert.equal(await editorText(reader.page), 'Read me. And this.')
    assert.equal(await editorText(writer.page), 'Read me. And this.')
    await Promise.all([writer.context.close(), reader.context.close()])
  })
})
