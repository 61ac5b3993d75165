// What a person does and sees on the editor page, for the browser tests.
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'

export const waitMs = 20_000

export async function setName(page: Page, name: string): Promise<void> {
  await page.fill('#your-name', name)
  await page.press('#your-name', 'Enter')
}

/** The document as the reader sees it: the editor's lines without other people's caret labels. */
export async function editorText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const lines = [...document.querySelectorAll('.cm-content .cm-line')].map((line) => {
      const copy = line.cloneNode(true) as HTMLElement
      for (const widget of copy.querySelectorAll('.cm-ySelectionCaret, .cm-widgetBuffer')) widget.remove()
      return copy.textContent ?? ''
    })
    return lines.join('\n')
  })
}

export async function typeInEditor(page: Page, text: string): Promise<void> {
  await page.locator('.cm-content').click()
  await page.keyboard.press('Control+End')
  await page.keyboard.type(text, { delay: 15 })
}

export async function waitForText(page: Page, expected: string): Promise<void> {
  const deadline = Date.now() + waitMs
  let seen = ''
  while (Date.now() < deadline) {
    seen = await editorText(page)
    if (seen.includes(expected)) return
    await page.waitForTimeout(100)
  }
  assert.fail(`editor never showed ${JSON.stringify(expected)}; it shows ${JSON.stringify(seen)}`)
}

/** The badge says connected and every local edit has been confirmed by the server. */
export async function waitForSaved(page: Page): Promise<void> {
  await page.waitForSelector('#status[data-connection="connected"][data-unsynced="0"]', { timeout: waitMs })
}

/** Types a token into the demo's token dialog and sends it. */
export async function enterToken(page: Page, token: string): Promise<void> {
  await page.fill('#auth-dialog input[name="token"]', token)
  await page.press('#auth-dialog input[name="token"]', 'Enter')
}
