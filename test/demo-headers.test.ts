// The demo pages as a browser receives them: security headers on every file, no source maps by default,
// and the pages still work under their Content-Security-Policy (real Chromium).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  browserMissing,
  cspViolations,
  ensureDemoBuilt,
  openPerson,
  uniqueRoom,
  useDemo,
} from './helpers/browser.js'
import { waitFor } from './helpers/clients.js'
import { setName, typeInEditor, waitForSaved, waitForText, waitMs } from './helpers/editor-page.js'
import { removeDir, startServer, type TestServer } from './helpers/server.js'

describe('the demo files', () => {
  let s: TestServer
  before(async () => {
    ensureDemoBuilt()
    s = await startServer({ demo: true })
  })
  after(async () => {
    await s.stop()
    removeDir(s.dataDir)
  })

  test('are served with nosniff, a CSP, frame protection and no referrer', async () => {
    const page = await fetch(`${s.http}/`)
    const html = await page.text()
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1]
    assert.ok(script, 'the page loads a script bundle')
    for (const path of ['/', '/whiteboard/', '/rich-text/', `/${script}`, '/sw.js', '/favicon.svg']) {
      const response = await fetch(`${s.http}${path}`)
      assert.equal(response.status, 200, path)
      const csp = response.headers.get('content-security-policy') ?? ''
      assert.match(csp, /script-src 'self'(;|$)/, path)
      assert.match(csp, /frame-ancestors 'none'/, path)
      assert.match(csp, /connect-src 'self' ws: wss:/, path)
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path)
      assert.equal(response.headers.get('x-frame-options'), 'DENY', path)
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer', path)
    }
  })

  test('include no source maps unless the demo is built with them', async () => {
    const html = await (await fetch(`${s.http}/`)).text()
    const scripts = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1])
    assert.ok(scripts.length >= 2)
    for (const file of scripts) {
      const body = await (await fetch(`${s.http}/${file}`)).text()
      assert.doesNotMatch(body, /sourceMappingURL/, file)
      assert.equal((await fetch(`${s.http}/${file}.map`)).status, 404, `${file}.map`)
    }
  })
})

describe('the demo under its Content-Security-Policy', { skip: browserMissing }, () => {
  const demo = useDemo()

  test('the editor syncs two people and colours their cursors with nothing blocked', async () => {
    const room = uniqueRoom('csp')
    const ada = await openPerson(demo.browser, `${demo.plait.url}/#room=${room}`)
    const bob = await openPerson(demo.browser, `${demo.plait.url}/#room=${room}`)
    await setName(ada.page, 'Ada')
    await waitForSaved(ada.page)
    await waitForSaved(bob.page)
    await typeInEditor(ada.page, 'under a strict policy')
    await waitForText(bob.page, 'under a strict policy')
    const caret = bob.page.locator('.cm-ySelectionCaret').first()
    await caret.waitFor({ timeout: waitMs })
    const colour = await caret.evaluate((element) => getComputedStyle(element).backgroundColor)
    assert.notEqual(colour, 'rgba(0, 0, 0, 0)', 'the remote cursor has its colour')
    assert.deepEqual(await cspViolations(ada.page), [])
    assert.deepEqual(await cspViolations(bob.page), [])
    await Promise.all([ada.context.close(), bob.context.close()])
  })

  test('the whiteboard connects with nothing blocked', async () => {
    const person = await openPerson(demo.browser, `${demo.plait.url}/whiteboard/#room=${uniqueRoom('csp')}`)
    await person.page.waitForSelector('#status[data-connection="connected"]', { timeout: waitMs })
    assert.deepEqual(await cspViolations(person.page), [])
    await person.context.close()
  })

  test('another site cannot show the demo in a frame', async () => {
    const { context, page } = await openPerson(demo.browser, 'about:blank')
    await page.setContent(`<iframe src="${demo.plait.url}/"></iframe>`)
    const frame = page.frames()[1]
    assert.ok(frame, 'the frame element exists')
    // Chromium shows its error page in place of a page whose frame-ancestors refuse the embedding site.
    await waitFor(() => frame.url().startsWith('chrome-error:'), 'the browser to refuse the frame', waitMs)
    await context.close()
  })
})
