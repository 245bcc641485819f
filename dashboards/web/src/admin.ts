import './admin.css'
import { startDevices } from './admin-devices.ts'
import { el } from './admin-dom.ts'
import { startHealth } from './admin-health.ts'
import { startPeople } from './admin-people.ts'
import { startQuarantine } from './admin-quarantine.ts'
import { startRounds } from './admin-rounds.ts'
import { startRules } from './admin-rules.ts'
import { type StartedView, type StartView, type ViewContext, viewHeader } from './view.ts'

/** What every admin page is given: the view's context and the message line under its heading. */
export type AdminPage = (ctx: ViewContext, message: HTMLParagraphElement) => Promise<StartedView>

interface Section {
  title: string
  about: string
  start: AdminPage
}

const SECTIONS: Record<string, Section> = {
  devices: {
    title: 'Devices',
    about: 'Provision a device (its secret and fitting QR code), see who is online, revoke.',
    start: startDevices,
  },
  rounds: { title: 'Rounds', about: 'Collection rounds: their days, times and bins.', start: startRounds },
  people: { title: 'People', about: 'Invite people, change their roles and areas, disable them.', start: startPeople },
  rules: {
    title: 'Rule overrides',
    about: 'Tune or switch off an alert rule for one site or one device, and see who changed what.',
    start: startRules,
  },
  quarantine: { title: 'Quarantine', about: 'Messages the service refused, why, and replaying them after a fix.', start: startQuarantine },
  health: { title: 'Service health', about: 'InfluxDB, the log readers and the log disk, checked every 10 seconds.', start: startHealth },
}

/** The admin pages, one link each; the current one is marked for screen readers and by a bar and bold. */
function pagesNav(active: string | null): HTMLElement {
  const list = el('ul')
  for (const [name, s] of Object.entries(SECTIONS)) {
    const a = el('a', { text: s.title, attrs: { href: `#admin/${name}` } })
    if (name === active) a.setAttribute('aria-current', 'page')
    list.append(el('li', {}, a))
  }
  return el('nav', { className: 'admin-pages', attrs: { 'aria-label': 'Admin pages' } }, list)
}

/** #admin: the index; #admin/<section>: that page. An unknown section shows the index. */
export const start: StartView = async (ctx) => {
  const name = ctx.path[0] ?? ''
  const section = SECTIONS[name]
  ctx.root.classList.add('admin')
  if (!section) {
    viewHeader(ctx.root, 'Admin')
    const list = el('ul', { className: 'admin-index' })
    for (const [key, s] of Object.entries(SECTIONS))
      list.append(el('li', {}, el('a', { text: s.title, attrs: { href: `#admin/${key}` } }), el('p', { className: 'hint', text: s.about })))
    ctx.root.append(list)
    if (!ctx.root.hidden) ctx.root.querySelector('h2')?.focus()
    return { stop() {} }
  }
  const { heading, message } = viewHeader(ctx.root, section.title)
  ctx.root.insertBefore(pagesNav(name), message)
  // Busy until its data is in: assistive tools wait, and so can a test.
  const box = ctx.root.closest('section.view') ?? ctx.root
  box.setAttribute('aria-busy', 'true')
  let started: StartedView
  try {
    started = await section.start(ctx, message)
  } finally {
    box.removeAttribute('aria-busy')
  }
  // Moving between admin pages keeps the same section, so the shell does not move focus: the new page's heading takes it.
  if (!ctx.root.hidden) heading.focus()
  return started
}
