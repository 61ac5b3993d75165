// Headless Debian chromium driven by playwright-core, for tests that use the demo like a person would.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { freePort, PlaitProcess } from './plait-process.js'
import { unmet } from './requirements.js'
import { newestSourceTime } from './server.js'

export const chromiumPath = '/usr/bin/chromium'
export const artifactsDir = join(import.meta.dirname, '..', '..', 'test-artifacts')

/** Why browser tests cannot run here, or false when they can. */
export const browserMissing: string | false = unmet(
  existsSync(chromiumPath) ? null : `${chromiumPath} not installed (apt-get install -y chromium)`,
)

const demoDir = join(import.meta.dirname, '..', '..', 'web-demo')

/**
 * Builds web-demo/dist when it is missing or older than its sources (a fresh CI checkout has none), so the
 * browser tests always exercise the current demo. The plait server serves whatever is there when it starts.
 */
export function ensureDemoBuilt(): void {
  const page = join(demoDir, 'dist', 'index.html')
  const sources = Math.max(
    newestSourceTime(join(demoDir, 'src')),
    statSync(join(demoDir, 'build.ts')).mtimeMs,
  )
  if (existsSync(page) && statSync(page).mtimeMs >= sources) return
  execFileSync(process.execPath, ['--import', 'tsx', join(demoDir, 'build.ts')], {
    stdio: 'inherit',
    timeout: 120_000,
  })
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  })
}

/** A separate person: own storage, own identity, one page. */
export async function openPerson(
  browser: Browser,
  url: string,
  viewport = { width: 1280, height: 800 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 })
  // Whatever the Content-Security-Policy blocks, kept on the page for cspViolations().
  await context.addInitScript(() => {
    const seen: string[] = []
    Object.assign(window, { plaitCspViolations: seen })
    document.addEventListener('securitypolicyviolation', (event) => {
      seen.push(
        `${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`,
      )
    })
  })
  const page = await context.newPage()
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`))
  await page.goto(url)
  return { context, page }
}

/** What the page's Content-Security-Policy blocked so far (pages opened with openPerson). */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(
    () => (window as unknown as { plaitCspViolations?: string[] }).plaitCspViolations ?? [],
  )
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true })
  await page.screenshot({ path: join(artifactsDir, `${name}.png`) })
}

export function uniqueRoom(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

/** For a describe block: the built demo, a plait process (with extra flags) and a browser, started before
 * its tests and stopped after them, even when one fails. */
export function useDemo(flags: string[] = []): { readonly plait: PlaitProcess; readonly browser: Browser } {
  const fixture = {} as { plait: PlaitProcess; browser: Browser }
  before(async () => {
    ensureDemoBuilt()
    fixture.plait = new PlaitProcess(await freePort(), flags)
    await fixture.plait.start()
    fixture.browser = await launchBrowser()
  })
  after(async () => {
    await fixture.browser?.close()
    await fixture.plait?.dispose()
  })
  return fixture
}
