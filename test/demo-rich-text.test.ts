// The rich-text demo page in a real browser: Tiptap over the real Hocuspocus provider against the real plait
// server. Two people type together, see each other's named carets, and nothing breaks the page's CSP.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Page } from 'playwright-core'
import { mintToken } from '../server/cli/token-command.js'
import {
  browserMissing,
  cspViolations,
  openPerson,
  screenshot,
  uniqueRoom,
  useDemo,
} from './helpers/browser.js'
import { enterToken, setName, waitForSaved, waitMs } from './helpers/editor-page.js'

const secret = 'demo-rich-text-test-secret-0123456789abcdef'

/** A token for `docs`, signed with the server's secret, as an app would mint one (plait token). */
const mint = (docs: Record<string, 'read' | 'write'>) =>
  mintToken({ secret, sub: 'demo-test', docs, ttlSeconds: 600 })

/** The document as the reader sees it: paragraphs of the editor without other people's caret labels. */
function richText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const blocks = [...document.querySelectorAll('#rich-editor .ProseMirror > *')].map((block) => {
      const copy = block.cloneNode(true) as HTMLElement
      for (const caret of copy.querySelectorAll('.collaboration-carets__caret')) caret.remove()
      return copy.textContent ?? ''
    })
    return blocks.join('\n')
  })
}

/** Types at the end of the document, or of its first paragraph (two people typing at one spot interleave). */
async function typeRich(
  page: Page,
  text: string,
  options: { bold?: boolean; firstParagraph?: boolean } = {},
): Promise<void> {
  await page.locator('#rich-editor .ProseMirror').click()
  if (options.firstParagraph === true) {
    await page.keyboard.press('Control+Home')
    await page.keyboard.press('End')
  } else await page.keyboard.press('Control+End')
  if (options.bold === true) await page.keyboard.press('Control+B')
  await page.keyboard.type(text, { delay: 15 })
}

async function waitForRichText(page: Page, expected: string): Promise<void> {
  const deadline = Date.now() + waitMs
  let seen = ''
  while (Date.now() < deadline) {
    seen = await richText(page)
    if (seen.includes(expected)) return
    await page.waitForTimeout(100)
  }
  assert.fail(`editor never showed ${JSON.stringify(expected)}; it shows ${JSON.stringify(seen)}`)
}

describe('the rich-text demo (Tiptap over the Hocuspocus provider)', { skip: browserMissing }, () => {
  const demo = useDemo()

  test('two people type together, converge, see named carets, with nothing blocked', async () => {
    const room = uniqueRoom('rich')
    const url = `${demo.plait.url}/rich-text/#room=${room}`
    const ada = await openPerson(demo.browser, url)
    const bob = await openPerson(demo.browser, url)
    await setName(ada.page, 'Ada')
    await setName(bob.page, 'Bob')
    await waitForSaved(ada.page)
    await waitForSaved(bob.page)

    await typeRich(ada.page, 'Hello from Ada.')
    await ada.page.keyboard.press('Enter')
    await waitForRichText(bob.page, 'Hello from Ada.')
    await typeRich(bob.page, 'Bob was here too.')
    await waitForRichText(ada.page, 'Bob was here too.')
    // both type at once, and one of them in bold
    await Promise.all([
      typeRich(ada.page, ' [ada]', { bold: true, firstParagraph: true }),
      typeRich(bob.page, ' [bob]'),
    ])
    await waitForRichText(ada.page, '[bob]')
    await waitForRichText(bob.page, '[ada]')
    await waitForSaved(ada.page)
    await waitForSaved(bob.page)
    const adaText = await richText(ada.page)
    assert.equal(await richText(bob.page), adaText)
    for (const part of ['Hello from Ada.', 'Bob was here too.', '[ada]', '[bob]'])
      assert.ok(adaText.includes(part))
    assert.equal(
      (await bob.page.locator('#rich-editor strong').count()) > 0,
      true,
      'bold reached the other page',
    )

    // each sees the other's caret, in their colour, with their name; both are in the presence list
    const adaCaret = bob.page.locator('.collaboration-carets__label', { hasText: 'Ada' })
    await adaCaret.waitFor({ timeout: waitMs })
    await ada.page.locator('.collaboration-carets__label', { hasText: 'Bob' }).waitFor({ timeout: waitMs })
    const colour = await adaCaret.evaluate((element) => getComputedStyle(element).backgroundColor)
    assert.notEqual(colour, 'rgba(0, 0, 0, 0)', 'the remote caret has its colour')
    await ada.page.waitForSelector('#presence[data-count="2"]', { timeout: waitMs })
    assert.deepEqual(
      await bob.page
        .locator('#presence .person')
        .evaluateAll((items) => items.map((item) => item.getAttribute('title'))),
      ['Bob (you)', 'Ada'],
    )
    assert.equal(await ada.page.locator('#room-name').textContent(), room)
    assert.equal(await ada.page.locator('.tabs a[aria-current="page"]').textContent(), 'Rich text')
    await screenshot(ada.page, 'rich-text-ada')
    await screenshot(bob.page, 'rich-text-bob')

    // a rename reaches the other person's caret and presence list
    // (without an edit: the caret plugin reuses a caret's DOM until its line is redrawn)
    await setName(bob.page, 'Robert')
    await bob.page.locator('#rich-editor .ProseMirror').click()
    await ada.page.locator('.collaboration-carets__label', { hasText: 'Robert' }).waitFor({ timeout: waitMs })
    await ada.page.waitForSelector('#presence .person[title="Robert"]', { timeout: waitMs })
    // a name fades once its owner has been still for a few seconds (the fade is a transition: poll)
    await bob.page.waitForFunction(
      () =>
        [
          ...document.querySelectorAll('.collaboration-carets__caret--idle .collaboration-carets__label'),
        ].some((label) => getComputedStyle(label).opacity === '0'),
      null,
      { timeout: waitMs },
    )

    assert.deepEqual(await cspViolations(ada.page), [])
    assert.deepEqual(await cspViolations(bob.page), [])
    await Promise.all([ada.context.close(), bob.context.close()])
  })
})

describe('the rich-text demo on a server that requires tokens', { skip: browserMissing }, () => {
  const demo = useDemo(['--auth-secret', secret])

  test('a refused token shows the reason; a valid one from the same dialog gets in', async () => {
    const room = uniqueRoom('rich-secure')
    const forged = `${(await mint({ [room]: 'write' })).slice(0, -4)}AAAA`
    const person = await openPerson(demo.browser, `${demo.plait.url}/rich-text/#room=${room}&token=${forged}`)
    await person.page.waitForSelector('#auth-dialog[open]', { timeout: waitMs })
    assert.equal(
      await person.page.locator('#auth-dialog .dialog-title').textContent(),
      'Your token was not accepted',
    )
    assert.match((await person.page.locator('#auth-dialog .dialog-message').textContent()) ?? '', /signature/)
    await person.page.waitForSelector('#status[data-connection="denied"]', { timeout: waitMs })
    await enterToken(person.page, await mint({ [room]: 'write' }))
    await waitForSaved(person.page)
    await typeRich(person.page, 'Behind a token.')
    await waitForSaved(person.page)
    assert.deepEqual(await cspViolations(person.page), [])
    await person.context.close()
  })

  test('a read-only token shows the document and cannot change it', async () => {
    const room = uniqueRoom('rich-secure')
    const writer = await openPerson(
      demo.browser,
      `${demo.plait.url}/rich-text/#room=${room}&token=${await mint({ [room]: 'write' })}`,
    )
    await waitForSaved(writer.page)
    await typeRich(writer.page, 'Read me.')
    await waitForSaved(writer.page)
    const reader = await openPerson(
      demo.browser,
      `${demo.plait.url}/rich-text/#room=${room}&token=${await mint({ [room]: 'read' })}`,
    )
    await waitForRichText(reader.page, 'Read me.')
    await reader.page.waitForSelector('#status .status-label:text("Read-only")', { timeout: waitMs })
    assert.equal(
      await reader.page.locator('#rich-editor .ProseMirror').getAttribute('contenteditable'),
      'false',
    )
    await reader.page.keyboard.type('nope')
    await writer.page.waitForTimeout(500)
    assert.equal(await richText(writer.page), 'Read me.')
    await Promise.all([writer.context.close(), reader.context.close()])
  })
})
