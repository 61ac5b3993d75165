// The editor demo in a real browser against the real plait server: two people typing together, their
// cursors, and a server restart in the middle of a session.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { browserMissing, openPerson, screenshot, uniqueRoom, useDemo } from './helpers/browser.js'
import {
  editorText,
  setName,
  typeInEditor,
  waitForSaved,
  waitForText,
  waitMs,
} from './helpers/editor-page.js'

describe('the collaborative editor demo', { skip: browserMissing }, () => {
  const demo = useDemo()

  test('two people type in one room, end with the same text and see each other', async () => {
    const room = uniqueRoom('notes')
    const ada = await openPerson(demo.browser, `${demo.plait.url}/#room=${room}`)
    const bob = await openPerson(demo.browser, `${demo.plait.url}/#room=${room}`)
    await setName(ada.page, 'Ada')
    await setName(bob.page, 'Bob')
    await waitForSaved(ada.page)
    await waitForSaved(bob.page)

    await typeInEditor(ada.page, 'Hello from Ada. ')
    await waitForText(bob.page, 'Hello from Ada.')
    await typeInEditor(bob.page, 'Bob was here too.')
    await waitForText(ada.page, 'Bob was here too.')
    // both type at once
    await Promise.all([typeInEditor(ada.page, ' [ada]'), typeInEditor(bob.page, ' [bob]')])
    await waitForText(ada.page, '[bob]')
    await waitForText(bob.page, '[ada]')
    await waitForSaved(ada.page)
    await waitForSaved(bob.page)
    const adaText = await editorText(ada.page)
    assert.equal(await editorText(bob.page), adaText)
    for (const part of ['Hello from Ada.', 'Bob was here too.', '[ada]', '[bob]'])
      assert.ok(adaText.includes(part))

    // each sees the other's named cursor and both in the presence list
    await bob.page.waitForSelector('.cm-ySelectionInfo:text("Ada")', { timeout: waitMs })
    await ada.page.waitForSelector('.cm-ySelectionInfo:text("Bob")', { timeout: waitMs })
    await ada.page.waitForSelector('#presence[data-count="2"]', { timeout: waitMs })
    assert.deepEqual(
      await bob.page
        .locator('#presence .person')
        .evaluateAll((items) => items.map((item) => item.getAttribute('title'))),
      ['Bob (you)', 'Ada'],
    )
    assert.equal(await ada.page.locator('#room-name').textContent(), room)
    await screenshot(ada.page, 'editor-ada')
    await screenshot(bob.page, 'editor-bob')

    // a rename shows on the caret and in the list of the other person right away
    await setName(bob.page, 'Robert')
    await bob.page.locator('.cm-content').click()
    await ada.page.waitForSelector('.cm-ySelectionInfo:text("Robert")', { timeout: waitMs })
    await ada.page.waitForSelector('#presence .person[title="Robert"]', { timeout: waitMs })

    // a name label fades once its owner is idle, so it does not cover text, and returns when they type
    const labelOpacity = (name: string) =>
      bob.page.waitForFunction(
        ([who, opacity]) =>
          [...document.querySelectorAll('.cm-ySelectionInfo')].some(
            (label) => label.textContent === who && getComputedStyle(label).opacity === opacity,
          ),
        [name, '0'] as const,
        { timeout: waitMs },
      )
    await labelOpacity('Ada')
    await ada.page.keyboard.press('ArrowLeft')
    await bob.page.waitForFunction(
      () =>
        [...document.querySelectorAll('.cm-ySelectionInfo')].some(
          (label) => label.textContent === 'Ada' && getComputedStyle(label).opacity === '1',
        ),
      null,
      { timeout: waitMs },
    )

    // undo takes back only Ada's own edits: once all of hers are undone, exactly Bob's text is left
    await ada.page.locator('.cm-content').click()
    for (let press = 0; press < 10; press++) await ada.page.keyboard.press('Control+z')
    const deadline = Date.now() + waitMs
    while ((await editorText(bob.page)) !== 'Bob was here too. [bob]' && Date.now() < deadline)
      await bob.page.waitForTimeout(100)
    assert.equal(await editorText(bob.page), 'Bob was here too. [bob]')
    await ada.context.close()
    await bob.context.close()
  })

  test('edits typed while the server is down reach everyone after a restart and survive a reload', async () => {
    const room = uniqueRoom('restart')
    const ada = await openPerson(demo.browser, `${demo.plait.url}/#room=${room}`)
    const bob = await openPerson(demo.browser, `${demo.plait.url}/#room=${room}`)
    await setName(ada.page, 'Ada')
    await setName(bob.page, 'Bob')
    await typeInEditor(ada.page, 'Before the restart.')
    await waitForText(bob.page, 'Before the restart.')
    await waitForSaved(ada.page)
    // the offline shell must be installed before the server goes away, as it would be for a returning user
    await ada.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined))

    await demo.plait.stop()
    await ada.page.waitForSelector('#status[data-connection="offline"]', { timeout: waitMs })
    await bob.page.waitForSelector('#status[data-connection="offline"]', { timeout: waitMs })
    await typeInEditor(ada.page, ' Ada wrote this offline.')
    await typeInEditor(bob.page, ' Bob too.')
    await ada.page.waitForSelector('#status[data-connection="offline"]:not([data-unsynced="0"])')
    assert.match((await ada.page.locator('#status-detail').textContent()) ?? '', /not on the server yet/)
    await screenshot(ada.page, 'editor-offline')

    // a reload while the server is down keeps what was typed (IndexedDB) and still opens the page
    await ada.page.reload()
    await waitForText(ada.page, 'Ada wrote this offline.')
    await ada.page.waitForSelector('#status[data-connection="offline"]:not([data-unsynced="0"])', {
      timeout: waitMs,
    })

    await demo.plait.start()
    await waitForSaved(ada.page)
    await waitForSaved(bob.page)
    for (const page of [ada.page, bob.page]) {
      await waitForText(page, 'Ada wrote this offline.')
      await waitForText(page, 'Bob too.')
      await waitForText(page, 'Before the restart.')
    }
    assert.equal(await editorText(ada.page), await editorText(bob.page))
    await screenshot(bob.page, 'editor-after-restart')

    // and the server has it: a newcomer with empty storage gets all of it
    const carol = await openPerson(demo.browser, `${demo.plait.url}/#room=${room}`)
    await waitForText(carol.page, 'Bob too.')
    assert.equal(await editorText(carol.page), await editorText(ada.page))
    await Promise.all([ada.context.close(), bob.context.close(), carol.context.close()])
  })
})
