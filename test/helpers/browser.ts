import { existsSync } from 'node:fs'
import { chromium, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync) ?? 'chromium'

/**
 * Debian's Chromium, headless. Without the background-networking flags it tries to reach
 * Google's hosts at every start, which this closed network refuses.
 */
export const launchChromium = () =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })

export interface KeyboardAuditResult {
  /** Each element Tab reached, in order, as `tag "name"`. */
  reached: string[]
  /** What is wrong: unreached controls, missing focus indicators, clickable things the keyboard cannot reach. Empty when all is well. */
  problems: string[]
}

// Evaluated in the page (strings: this project's TypeScript has no DOM types outside the web app).
const AUDIT_LIB = `(() => {
  const NATIVE = 'a[href], button, input, select, textarea, summary, label, option, area[href]'
  const INTERACTIVE = 'a[href], area[href], button, input:not([type="hidden"]), select, textarea, summary, [contenteditable=""], [contenteditable="true"], ' +
    '[role="button"], [role="link"], [role="checkbox"], [role="radio"], [role="switch"], [role="tab"], [role="menuitem"], [role="option"], ' +
    '[tabindex]:not([tabindex^="-"])'
  const CLICK_ROLES = ['button', 'link', 'checkbox', 'radio', 'switch', 'tab', 'menuitem', 'option']
  const name = (el) => {
    const n = (el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent) || el.textContent ||
      el.getAttribute('title') || el.getAttribute('placeholder') || el.getAttribute('name') || el.id || '').replace(/\\s+/g, ' ').trim()
    return el.tagName.toLowerCase() + ' "' + n.slice(0, 90) + '"'
  }
  const visible = (el) => {
    if (!el.checkVisibility({ visibilityProperty: true })) return false
    if (el.closest('[inert]')) return false
    const r = el.getBoundingClientRect()
    return r.width > 0 && r.height > 0
  }
  const ring = (el) => {
    const s = getComputedStyle(el)
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && s.outlineColor !== 'rgba(0, 0, 0, 0)'
    return { outline, shadow: s.boxShadow !== 'none', key: [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join('|') }
  }
  /** The element and two ancestors (a ring drawn by :focus-within counts). */
  const chain = (el) => [el, el.parentElement, el.parentElement && el.parentElement.parentElement].filter(Boolean)
  window.__kbAudit = {
    seen: [], styles: [], last: null, stay: 0,
    expected() {
      return [...document.querySelectorAll(INTERACTIVE)].filter((el) => !el.matches(':disabled') && visible(el))
    },
    step() {
      const el = document.activeElement
      if (!el || el === document.body || el === document.documentElement) return { body: true }
      // A date or time field takes a Tab per part (hours, minutes) before focus leaves it.
      if (el === this.last && ++this.stay < 6) return { body: true }
      this.last = el
      this.stay = 0
      const i = this.seen.indexOf(el)
      if (i >= 0) return { again: i, name: name(el) }
      this.seen.push(el)
      this.styles.push(chain(el).map(ring))
      return { name: name(el) }
    },
    finish() {
      if (document.activeElement && document.activeElement.blur) document.activeElement.blur()
      const problems = []
      this.seen.forEach((el, i) => {
        const before = this.styles[i]
        const after = chain(el).map(ring)
        const shown = before.some((f, j) => (f.outline || f.shadow) && after[j] && after[j].key !== f.key)
        if (!shown && visible(el)) problems.push('no visible focus indicator: ' + name(el))
      })
      const reached = (el) => this.seen.includes(el) ||
        (el.type === 'radio' && el.name && this.seen.some((s) => s.type === 'radio' && s.name === el.name && s.form === el.form))
      for (const el of this.expected()) if (!reached(el)) problems.push('not reached by Tab: ' + name(el))
      // Clickable but not focusable: a click role, an onclick, or a pointer cursor on something not native.
      for (const el of document.querySelectorAll('body *')) {
        if (el.closest(NATIVE) || !visible(el)) continue
        const role = el.getAttribute('role')
        const pointer = getComputedStyle(el).cursor === 'pointer'
        const clicky = CLICK_ROLES.includes(role) || el.hasAttribute('onclick') || typeof el.onclick === 'function' || pointer
        if (!clicky) continue
        if (pointer && !CLICK_ROLES.includes(role) && el.parentElement && getComputedStyle(el.parentElement).cursor === 'pointer') continue
        if (el.tabIndex < 0 || el.matches(':disabled')) problems.push('clickable but not reachable by keyboard: ' + name(el))
      }
      return problems
    },
  }
})()`

/**
 * Tabs through the whole page until focus comes back round, and checks the keyboard can do all the
 * mouse can: (a) every visible interactive element (links, buttons, fields, summary, click roles,
 * tabindex ≥ 0) is reached by Tab; (b) each, when focused, shows a focus indicator (an outline of
 * some width or a box-shadow, on it or on a parent by :focus-within) that it does not show unfocused;
 * (c) nothing clickable (a click role, onclick, or a pointer cursor outside native controls) is out of
 * the tab order. Leaves nothing focused.
 */
export async function keyboardAudit(page: Page, max = 400): Promise<KeyboardAuditResult> {
  await page.evaluate(AUDIT_LIB)
  const reached: string[] = []
  const problems: string[] = []
  let cycled = false
  for (let i = 0; i < max && !cycled; i++) {
    await page.keyboard.press('Tab')
    const r = (await page.evaluate('window.__kbAudit.step()')) as { body?: true; again?: number; name?: string }
    if (r.body) continue
    if (r.again === undefined) reached.push(r.name!)
    else {
      cycled = true
      if (r.again !== 0) problems.push(`focus came back to ${r.name} before going round the page (a trap?)`)
    }
  }
  if (!cycled) problems.push(`focus did not come back round after ${max} Tab presses`)
  problems.push(...((await page.evaluate('window.__kbAudit.finish()')) as string[]))
  return { reached, problems }
}
