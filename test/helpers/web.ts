import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Algorithm, hash } from '@node-rs/argon2'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { Grant } from '#devices'
import type { Registry } from '../../store/registry.ts'
import { noteSecret } from './log-capture.ts'

/** The built web app; browser tests serve it through startService({…}, { webRoot: WEB_ROOT, token }). */
export const WEB_ROOT = fileURLToPath(new URL('../../dashboards/web/dist', import.meta.url))
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

export function requireBuiltWebApp() {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) throw new Error('the web app is not built: run `npm run build:web`')
  mkdirSync(ARTIFACTS, { recursive: true })
}

// The library's enum is an ambient const enum, which isolated modules cannot read.
const ARGON2ID = 2 as Algorithm.Argon2id

/** A signed-up person with a password they have already chosen (unless `mustChangePassword`: a one-time one). */
export async function createPerson(
  registry: Registry,
  p: { email: string; name: string; password: string; grants: Grant[]; mustChangePassword?: boolean },
): Promise<string> {
  noteSecret(p.password)
  const person = await registry.people.create({
    email: p.email,
    name: p.name,
    grants: p.grants,
    status: 'active',
    passwordHash: await hash(p.password, { algorithm: ARGON2ID }),
    mustChangePassword: p.mustChangePassword ?? false,
    createdBy: 'admin-token',
  })
  return person.id
}

// Recorded in the page before any of its own scripts run: every view must keep to the CSP.
const RECORD_VIOLATIONS = `
  window.__csp = []
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI))
`

export const PHONE = { width: 360, height: 640 } as const
export const DESKTOP = { width: 1366, height: 900 } as const

export interface OpenPage {
  context: BrowserContext
  page: Page
  /** CSP violations, script errors, console errors and failed responses seen so far. */
  problems(): Promise<string[]>
}

/** A fresh context (no cookies) at a viewport, recording what went wrong. Close `context` when done. */
export async function openPage(
  browser: Browser,
  viewport: { width: number; height: number } = DESKTOP,
  /** Cookies and local storage of an earlier context: the same browser coming back. */
  storageState?: Awaited<ReturnType<BrowserContext['storageState']>>,
): Promise<OpenPage> {
  const phone = viewport.width < 600
  const context = await browser.newContext({ viewport, hasTouch: phone, isMobile: phone, ...(storageState ? { storageState } : {}) })
  const page = await context.newPage()
  const seen: string[] = []
  // Before signing in, /api/me answers 401: that is how the page learns it must ask.
  const expected = (path: string, status: number) => path === '/api/me' && status === 401
  page.on('console', (m) => {
    if (m.type() === 'error' && !(m.text().includes('401') && new URL(m.location().url).pathname === '/api/me'))
      seen.push(`console: ${m.text()}`)
  })
  page.on('pageerror', (e) => seen.push(`page: ${e.message}`))
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname
    if (r.status() >= 400 && !expected(path, r.status())) seen.push(`${r.status()} ${path}`)
  })
  await page.addInitScript({ content: RECORD_VIOLATIONS })
  return { context, page, problems: async () => [...((await page.evaluate('window.__csp')) as string[]), ...seen] }
}

/** Signs in through the form at `url` + `hash` and waits for `heading` (the view the person lands on). */
export async function signIn(page: Page, url: string, who: { email: string; password: string }, heading: string | RegExp, hash = '') {
  await page.goto(`${url}/${hash}`)
  await page.getByLabel('Email', { exact: true }).fill(who.email)
  await page.getByLabel('Password', { exact: true }).fill(who.password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('heading', { name: heading }).first().waitFor({ timeout: 15_000 })
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core'), 'utf8')
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']

/** axe-core's WCAG 2.0–2.2 A and AA rules; evaluated over CDP, which the page's CSP does not govern. */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE)
  const r = (await page.evaluate(`axe.run(document, { runOnly: ${JSON.stringify(WCAG)} })`)) as {
    violations: { id: string; nodes: { target: string[] }[] }[]
  }
  return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

/** WCAG 1.4.10: nothing scrolls sideways (set the viewport to 320 px wide first). */
export const scrollsSideways = (page: Page) => page.evaluate('document.documentElement.scrollWidth > window.innerWidth') as Promise<boolean>

/** A full-page screenshot in test-artifacts/ (gitignored), named `<view>-<what>.png`. */
export const screenshot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })

/**
 * Presses Tab until the focused element's accessible text matches `name` (at most `max` presses),
 * and checks it shows a visible focus ring; true when found. Keyboard-only operation.
 */
export async function tabTo(page: Page, name: RegExp, max = 200): Promise<boolean> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    const found = (await page.evaluate(`(() => {
      const el = document.activeElement
      if (!el || el === document.body) return null
      const label = el.getAttribute('aria-label') || el.textContent || ''
      const s = getComputedStyle(el)
      const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2
      return { label: label.trim(), ring }
    })()`)) as { label: string; ring: boolean } | null
    if (found && name.test(found.label)) {
      if (!found.ring) throw new Error(`"${found.label}" has focus but no visible focus ring`)
      return true
    }
  }
  return false
}

/**
 * axe-core at 360 × 640 and at 1366 × 900 (a screenshot `<name>-phone`/`<name>-desktop` at each), then
 * no sideways scrolling at 320 px; the viewport is left at 1366 × 900. Returns what failed, by size.
 */
export async function checkAtSizes(page: Page, name: string): Promise<string[]> {
  const failed: string[] = []
  for (const [size, vp] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    await page.setViewportSize(vp)
    await page.waitForTimeout(150)
    for (const v of await axeViolations(page)) failed.push(`${size}: ${v}`)
    await screenshot(page, `${name}-${size}`)
  }
  await page.setViewportSize({ width: 320, height: 640 })
  await page.waitForTimeout(150)
  if (await scrollsSideways(page)) failed.push('scrolls sideways at 320 px')
  await page.setViewportSize(DESKTOP)
  return failed
}
