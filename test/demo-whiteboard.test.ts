// The whiteboard demo in a real browser against the real plait server: strokes, sticky notes, live
// pointers, undo of your own changes and clearing the board.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Page } from 'playwright-core'
import { browserMissing, openPerson, screenshot, uniqueRoom, useDemo } from './helpers/browser.js'

const waitMs = 20_000

interface BoardPoint {
  x: number
  y: number
}

async function setName(page: Page, name: string): Promise<void> {
  await page.fill('#your-name', name)
  await page.press('#your-name', 'Enter')
}

async function boardOrigin(page: Page): Promise<BoardPoint> {
  const box = await page.locator('#board').boundingBox()
  assert.ok(box, 'the board is on screen')
  return { x: box.x, y: box.y }
}

/** Draws a straight line with the mouse, in board coordinates. */
async function drawLine(page: Page, from: BoardPoint, to: BoardPoint): Promise<void> {
  const origin = await boardOrigin(page)
  await page.mouse.move(origin.x + from.x, origin.y + from.y)
  await page.mouse.down()
  await page.mouse.move(origin.x + to.x, origin.y + to.y, { steps: 20 })
  await page.mouse.up()
}

/** Whether the canvas shows ink around a board point (the most opaque pixel of a 9×9 square). */
async function inkAt(page: Page, point: BoardPoint): Promise<boolean> {
  return page.evaluate(({ x, y }) => {
    const canvas = document.querySelector<HTMLCanvasElement>('#strokes')
    const context = canvas?.getContext('2d')
    if (!canvas || !context) return false
    const ratio = canvas.width / canvas.clientWidth
    const pixels = context.getImageData(Math.round((x - 4) * ratio), Math.round((y - 4) * ratio), 9, 9).data
    for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] as number) > 128) return true
    return false
  }, point)
}

async function waitForInk(page: Page, point: BoardPoint, present: boolean): Promise<void> {
  const deadline = Date.now() + waitMs
  while (Date.now() < deadline) {
    if ((await inkAt(page, point)) === present) return
    await page.waitForTimeout(100)
  }
  assert.fail(`expected ${present ? 'ink' : 'no ink'} at ${point.x},${point.y}`)
}

describe('the whiteboard demo', { skip: browserMissing }, () => {
  const demo = useDemo()

  test('strokes, notes and pointers reach the other person; undo takes back only your own', async () => {
    const room = uniqueRoom('board')
    const ada = await openPerson(demo.browser, `${demo.plait.url}/whiteboard/#room=${room}`)
    const bob = await openPerson(demo.browser, `${demo.plait.url}/whiteboard/#room=${room}`)
    await setName(ada.page, 'Ada')
    await setName(bob.page, 'Bob')
    for (const page of [ada.page, bob.page]) {
      await page.waitForSelector('#status[data-connection="connected"]', { timeout: waitMs })
      await page.waitForSelector('#presence[data-count="2"]', { timeout: waitMs })
    }

    // Ada's pointer shows on Bob's screen with her name
    const adaOrigin = await boardOrigin(ada.page)
    await ada.page.mouse.move(adaOrigin.x + 500, adaOrigin.y + 120)
    await ada.page.mouse.move(adaOrigin.x + 520, adaOrigin.y + 130)
    await bob.page.waitForSelector('.remote-pointer:has-text("Ada")', { timeout: waitMs })

    const adaLine = { from: { x: 100, y: 200 }, to: { x: 400, y: 220 } }
    const bobLine = { from: { x: 100, y: 380 }, to: { x: 420, y: 340 } }
    const adaMid = { x: 250, y: 210 }
    const bobMid = { x: 260, y: 360 }
    await drawLine(ada.page, adaLine.from, adaLine.to)
    await waitForInk(bob.page, adaMid, true)
    await drawLine(bob.page, bobLine.from, bobLine.to)
    await waitForInk(ada.page, bobMid, true)

    // a sticky note with text
    await ada.page.click('.tool[data-tool="note"]')
    const origin = await boardOrigin(ada.page)
    await ada.page.mouse.click(origin.x + 650, origin.y + 380)
    await ada.page.waitForFunction(() => document.activeElement?.classList.contains('note-text') === true)
    await ada.page.keyboard.type('Ship it on Friday', { delay: 10 })
    await bob.page.waitForFunction(
      () => (document.querySelector<HTMLTextAreaElement>('.note-text')?.value ?? '') === 'Ship it on Friday',
      null,
      { timeout: waitMs },
    )
    // Ada drags the note by its top strip; Bob sees it move
    const noteLeft = (page: Page) =>
      page.evaluate(() => document.querySelector('.note')?.getBoundingClientRect().left)
    const bobNoteBefore = (await noteLeft(bob.page)) ?? 0
    const grip = await ada.page.locator('.note-grip').boundingBox()
    assert.ok(grip, 'the note has a grip')
    await ada.page.mouse.move(grip.x + 40, grip.y + 10)
    await ada.page.mouse.down()
    await ada.page.mouse.move(grip.x + 190, grip.y + 40, { steps: 10 })
    await ada.page.mouse.up()
    await bob.page.waitForFunction(
      (before) => (document.querySelector('.note')?.getBoundingClientRect().left ?? 0) > before + 140,
      bobNoteBefore,
      { timeout: waitMs },
    )

    await ada.page.mouse.move(origin.x + 470, origin.y + 260)
    await bob.page.mouse.move((await boardOrigin(bob.page)).x + 880, (await boardOrigin(bob.page)).y + 200)
    await ada.page.waitForSelector('.remote-pointer:has-text("Bob")', { timeout: waitMs })
    await screenshot(ada.page, 'whiteboard-ada')
    await screenshot(bob.page, 'whiteboard-bob')

    // Ada's undo: the move, the note's text, the note, then her stroke; Bob's stroke stays
    for (let step = 0; step < 4; step++) await ada.page.click('#undo')
    await bob.page.waitForFunction(() => document.querySelectorAll('.note').length === 0, null, {
      timeout: waitMs,
    })
    await waitForInk(bob.page, adaMid, false)
    assert.equal(await inkAt(bob.page, bobMid), true, "Bob's stroke survives Ada's undo")
    await ada.page.click('#redo')
    await waitForInk(bob.page, adaMid, true)

    // Bob clears the board for everyone
    await bob.page.click('#clear-board')
    await waitForInk(ada.page, adaMid, false)
    await waitForInk(ada.page, bobMid, false)
    await ada.page.waitForSelector('#board.is-empty', { timeout: waitMs })
    await Promise.all([ada.context.close(), bob.context.close()])
  })
})
