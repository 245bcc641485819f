import type { DataClass, Me } from '#devices'
import { ROLE_RIGHTS } from '#devices/rights'
import { type Api, ApiError, type Credentials } from './api.ts'
import type { Ended } from './dashboard.ts'

/**
 * What a view is given when it opens. `root` is its own <section>, emptied before each start;
 * `path` is the rest of the address after the view's name (#home/<uprn> → ['<uprn>']), decoded.
 */
export interface ViewContext {
  api: Api
  credentials: Credentials
  me: Me
  root: HTMLElement
  path: string[]
  /** The view can no longer carry on (signed out, throttled, password to change): the shell takes over. */
  onEnded(e: Ended): void
}

export interface StartedView {
  /** Disconnects its live feed and timers; the shell empties the section. */
  stop(): void
}

export type StartView = (ctx: ViewContext) => Promise<StartedView>

/** True when some grant of `me` reads this class of data (the server decides; this only picks what to offer). */
export const readsClass = (me: Me, c: DataClass) => me.grants.some((g) => ROLE_RIGHTS[g.role].read.includes(c))
export const writesClass = (me: Me, c: DataClass) => me.grants.some((g) => ROLE_RIGHTS[g.role].write.includes(c))
export const isAdmin = (me: Me) => me.grants.some((g) => g.role === 'admin')

/**
 * Turns a failed call into the end of the view when it means the session is over (signed out,
 * password to change first); true when it did, so the caller shows nothing more.
 */
export function endedBy(e: unknown, end: (e: Ended) => void): boolean {
  if (e instanceof ApiError && e.status === 401) end({ reason: 'signed-out' })
  else if (e instanceof ApiError && e.code === 'PASSWORD_CHANGE_REQUIRED') end({ reason: 'password-change' })
  else return false
  return true
}

/** The words for a failed call: the server's own message (it carries the why), or the connection. */
export const failure = (e: unknown) =>
  e instanceof ApiError ? e.message : 'The service could not be reached. Check your connection and try again.'

/** A heading and a message line every view starts with; the heading takes focus when the view opens. */
export function viewHeader(root: HTMLElement, title: string): { heading: HTMLHeadingElement; message: HTMLParagraphElement } {
  const heading = document.createElement('h2')
  heading.tabIndex = -1
  heading.textContent = title
  heading.id = `${root.id}-h`
  // The section names itself after the page's heading (root is the page's box inside the section).
  ;(root.closest('section.view') ?? root).setAttribute('aria-labelledby', heading.id)
  const message = document.createElement('p')
  message.setAttribute('role', 'alert')
  message.setAttribute('aria-live', 'assertive')
  root.append(heading, message)
  return { heading, message }
}

export function say(el: HTMLElement, message: string, kind: 'error' | 'notice' = 'error') {
  el.textContent = message
  el.className = message ? kind : ''
}
