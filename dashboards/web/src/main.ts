// First: before any module that makes a zod schema.
import './zod-config.ts'
import type { CrewToday, Me } from '#devices'
import { CREW_FIRST_PAGE } from '#devices/crew-limits'
import { afterPaint } from './after-paint.ts'
import { ApiError, type Credentials, createApi, request } from './api.ts'
import { authApi } from './auth.ts'
import { startCrew } from './crew.ts'
import { type Dashboard, type Ended, startDashboard } from './dashboard.ts'
import { describeGrants, inWords } from './render.ts'
import { failure, isAdmin, readsClass, type StartView } from './view.ts'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const input = (id: string) => $<HTMLInputElement>(id)
const form = (id: string) => $<HTMLFormElement>(id)

// Only the automation-token option keeps anything in storage, and only for this tab; the session cookie is out of our script's reach.
const TOKEN_KEY = 'smartplace.token'
const VIEWS = [
  'sign-in-view',
  'change-password-view',
  'invitation-view',
  'app',
  'crew-view',
  'view-alerts',
  'view-homes',
  'view-buildings',
  'view-admin',
] as const
type View = (typeof VIEWS)[number]
const MESSAGE_OF: Partial<Record<View, string>> = {
  'sign-in-view': 'sign-in-message',
  'change-password-view': 'change-password-message',
  'invitation-view': 'invitation-message',
  app: 'app-message',
  'crew-view': 'crew-message',
}

/**
 * The views a signed-in person moves between, by the first part of the address (#homes/…).
 * `offer` only decides what the menu shows: the server scopes every call whatever is asked for.
 * The modules load on first use, so the crew's phone fetches no charts and no admin pages.
 */
interface Route {
  label: string
  section: View
  offer(me: Me): boolean
  start(): Promise<StartView>
}
const isCrew = (me: Me) => me.grants.some((g) => g.role === 'crew')
/**
 * Today's list and who is signed in, asked for by the page's first script (index.html) when this
 * browser last landed on the round, while this bundle was still on its way: on a slow phone
 * connection that saves a second. The list is used only if it came back fine within 10 s; otherwise
 * the view asks again. The crew view's own code is in this bundle: a chunk of its own would cost one
 * more round trip after it.
 */
let earlyCrew: { at: number; list: Promise<CrewToday> } | null = null
/** Who is signed in, as the page's first script asked; null when it did not ask. */
function prefetchRound(): Promise<Me> | null {
  // The page's first script asked already, before this bundle had even arrived.
  const asked = window.__spEarlyCrew
  window.__spEarlyCrew = undefined
  const list = asked ? (asked.list as Promise<CrewToday>) : request<CrewToday>(`/api/crew/today?limit=${CREW_FIRST_PAGE}`)
  list.catch(() => {})
  earlyCrew = { at: asked?.at ?? Date.now(), list }
  // Not the map: its 45 KB would share a slow line with the list (fetched beside it, even at the lowest
  // priority, the first row came later in bench:web), and Leaflet's start would hold up drawing it.
  return asked ? (asked.me as Promise<Me>) : null
}
function takeEarlyCrew() {
  const e = earlyCrew
  earlyCrew = null
  return e && Date.now() - e.at < 10_000 ? e.list : null
}
const ROUTES: Record<string, Route> = {
  round: {
    label: "Today's round",
    section: 'crew-view',
    offer: (me) => isCrew(me) || isAdmin(me),
    start: async () => (ctx) => startCrew(ctx.api, ctx.credentials, ctx.onEnded, takeEarlyCrew()),
  },
  homes: {
    label: 'Homes',
    section: 'view-homes',
    offer: (me) => readsClass(me, 'housing'),
    start: async () => (await import('./housing.ts')).start,
  },
  buildings: {
    label: 'Buildings',
    section: 'view-buildings',
    offer: (me) => readsClass(me, 'energy'),
    start: async () => (await import('./energy.ts')).start,
  },
  alerts: { label: 'Alerts', section: 'view-alerts', offer: () => true, start: async () => (await import('./inbox.ts')).start },
  all: {
    label: 'All devices',
    section: 'app',
    offer: () => true,
    start: async () => (ctx) => startDashboard(ctx.api, ctx.credentials, ctx.onEnded),
  },
  admin: { label: 'Admin', section: 'view-admin', offer: isAdmin, start: async () => (await import('./admin.ts')).start },
}

// Which view this browser last landed on (no personal data): a crew's phone starts fetching its list
// before the page has even asked who is signed in.
const LANDING_KEY = 'smartplace.landing'

/** Where a person lands: their own work first; an admin or a viewer on the alerts. */
function homeOf(me: Me): string {
  if (isAdmin(me) || me.grants.every((g) => g.role === 'viewer')) return 'alerts'
  if (isCrew(me)) return 'round'
  if (readsClass(me, 'housing')) return 'homes'
  if (readsClass(me, 'energy')) return 'buildings'
  return 'alerts'
}

/** Empties the sections that views build themselves; the static ones are emptied by their own stop(). */
function clearBuiltViews() {
  for (const r of Object.values(ROUTES)) if (!MESSAGE_OF[r.section]) $(r.section).replaceChildren()
}

/** #homes/riverside/100 → ['homes', 'riverside', '100'], each part decoded. */
function parseHash(): string[] {
  return location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p)
      } catch {
        return p
      }
    })
}

function showNav(me: Me | null, active: string | null) {
  const nav = $('nav')
  nav.hidden = !me
  const list = $('nav-list')
  list.replaceChildren()
  if (!me) return
  for (const [name, r] of Object.entries(ROUTES)) {
    if (!r.offer(me)) continue
    const a = document.createElement('a')
    a.href = `#${name}`
    a.textContent = r.label
    if (name === active) a.setAttribute('aria-current', 'page')
    const li = document.createElement('li')
    li.append(a)
    list.append(li)
  }
}

const throttled = (s: number) => `Too many failed sign-ins. Try again in ${inWords(s)}.`
const SESSION_ENDED = 'Your session has ended. Sign in again.'
const NOT_THE_SAME = 'The two new passwords are not the same. Type the same password in both boxes.'
const INVITATION_GONE = 'This invitation link has already been used or has expired. Ask an administrator to send you a new one.'

/** The words to show for a failed call: the server's own message (it carries the why), or what went wrong on the way. */
const messageOf = (e: unknown) => (e instanceof ApiError && e.status === 429 ? throttled(e.retryAfterS) : failure(e))
const is = (e: unknown, status: number, code?: string) => e instanceof ApiError && e.status === status && (!code || e.code === code)

let visible: View | null = null
function show(view: View) {
  $('loading').hidden = true
  for (const v of VIEWS) $(v).hidden = v !== view
  if (visible !== view) $(view).querySelector('h2')?.focus()
  visible = view
}

function say(id: string, message: string, kind: 'error' | 'notice' = 'error') {
  const el = $(id)
  el.textContent = message
  el.className = message ? kind : ''
}

/** Keeps a form from being sent twice while its call is on the way. */
async function busy<T>(f: HTMLFormElement, work: () => Promise<T>): Promise<T> {
  const button = f.querySelector('button[type="submit"]') as HTMLButtonElement
  button.disabled = true
  f.setAttribute('aria-busy', 'true')
  try {
    return await work()
  } finally {
    button.disabled = false
    f.removeAttribute('aria-busy')
  }
}

interface SignedIn {
  me: Me
  credentials: Credentials
  dashboard: Dashboard | null
}
let current: SignedIn | null = null
// The password just typed at sign-in, in memory only, so that a forced first change does not ask for it again.
let justTyped: string | null = null

function showHeader(me: Me | null) {
  if (!me) showNav(null, null)
  say('shell-message', '')
  $('me').hidden = !me
  $('me-name').textContent = me?.name ?? ''
  $('me-roles').textContent = me ? describeGrants(me.grants) : ''
}

function showSignIn(message = '', kind: 'error' | 'notice' = 'error') {
  current?.dashboard?.stop()
  current = null
  justTyped = null
  sessionStorage.removeItem(TOKEN_KEY)
  localStorage.removeItem(LANDING_KEY)
  clearBuiltViews()
  showHeader(null)
  for (const f of document.querySelectorAll('form')) f.reset()
  say('sign-in-message', message, kind)
  show('sign-in-view')
  // Asked only when the form is shown: a signed-in phone's first view has no use for it.
  if (!providersAsked) {
    providersAsked = true
    void showProviders()
  }
}
let providersAsked = false

const sessionOf = (me: Me): Credentials => ({ kind: 'session', csrf: me.csrfToken ?? '' })

/** Someone is signed in: the forced password change first if they owe one, else the view the address names, or theirs. */
async function enter(me: Me, credentials: Credentials) {
  current?.dashboard?.stop()
  const signedIn: SignedIn = { me, credentials, dashboard: null }
  current = signedIn
  showHeader(me)
  if (me.mustChangePassword) return askNewPassword()
  justTyped = null
  const [asked, ...path] = parseHash()
  const name = asked && ROUTES[asked]?.offer(me) ? asked : homeOf(me)
  if (!asked) localStorage.setItem(LANDING_KEY, name)
  const route = ROUTES[name]!
  const view = route.section
  showNav(me, name)
  const section = $(view)
  const message = MESSAGE_OF[view]
  if (message) say(message, '')
  // What another page showed (a device's secret, a home's cases) does not stay behind, even hidden.
  clearBuiltViews()
  // Each start draws into its own box: one still loading when the person moved on draws into a box
  // no longer in the page, instead of beside the view that replaced it.
  let root = section
  if (!message) {
    root = document.createElement('div')
    root.id = `${view}-page`
    section.replaceChildren(root)
  }
  try {
    const start = await route.start()
    const dashboard = await start({ api: createApi(credentials), credentials, me, root, path, onEnded: ended })
    // Signed out (or in as someone else, or moved on) while the view was loading.
    if (current !== signedIn) return dashboard.stop()
    signedIn.dashboard = dashboard
    show(view)
  } catch (e) {
    if (current !== signedIn) return
    if (is(e, 401)) return showSignIn(credentials.kind === 'bearer' ? 'That token was not accepted.' : SESSION_ENDED)
    if (is(e, 403, 'PASSWORD_CHANGE_REQUIRED')) return askNewPassword()
    if (is(e, 429)) return showSignIn(messageOf(e))
    const text = `This view could not load: ${messageOf(e)} Reload the page to try again.`
    if (message) say(message, text)
    else {
      const p = document.createElement('p')
      p.className = 'error'
      p.setAttribute('role', 'alert')
      p.textContent = text
      section.replaceChildren(p)
    }
    show(view)
  }
}

function ended(e: Ended) {
  if (e.reason === 'password-change') return askNewPassword()
  showSignIn(e.reason === 'throttled' ? throttled(e.retryAfterS) : SESSION_ENDED)
}

function askNewPassword() {
  if (!current) return showSignIn()
  current.dashboard?.stop()
  current.dashboard = null
  form('change-password').reset()
  input('change-password-username').value = current.me.email ?? ''
  $('current-password-field').hidden = justTyped !== null
  input('current-password').required = justTyped === null
  say('change-password-message', '')
  show('change-password-view')
}

async function signInWithToken(token: string) {
  const credentials: Credentials = { kind: 'bearer', token }
  try {
    const me = await authApi.me(credentials)
    sessionStorage.setItem(TOKEN_KEY, token)
    await enter(me, credentials)
  } catch (e) {
    showSignIn(is(e, 401) ? 'That token was not accepted.' : messageOf(e))
    $<HTMLDetailsElement>('token-option').open = true
  }
}

form('sign-in').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const email = input('email').value
  const password = input('password').value
  say('sign-in-message', '')
  void busy(form('sign-in'), async () => {
    try {
      const me = await authApi.signIn(email, password)
      input('password').value = ''
      justTyped = password
      await enter(me, sessionOf(me))
    } catch (e) {
      say('sign-in-message', messageOf(e))
      input('password').value = ''
      input('password').focus()
    }
  })
})

form('token-sign-in').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const token = input('token').value.trim()
  void busy(form('token-sign-in'), () => signInWithToken(token))
})

form('change-password').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const signedIn = current
  if (signedIn?.credentials.kind !== 'session') return showSignIn()
  const csrf = signedIn.credentials.csrf
  const next = input('new-password').value
  if (next !== input('new-password-again').value) {
    say('change-password-message', NOT_THE_SAME)
    return input('new-password-again').focus()
  }
  const currentPassword = justTyped ?? input('current-password').value
  say('change-password-message', '')
  void busy(form('change-password'), async () => {
    try {
      const me = await authApi.changePassword(csrf, currentPassword, next)
      justTyped = null
      form('change-password').reset()
      await enter(me, sessionOf(me))
    } catch (e) {
      if (is(e, 401, 'UNAUTHENTICATED')) return showSignIn(SESSION_ENDED)
      if (is(e, 401)) {
        // The current password was not right after all (changed elsewhere since): ask for it.
        justTyped = null
        $('current-password-field').hidden = false
        input('current-password').required = true
      }
      say('change-password-message', messageOf(e))
    }
  })
})

/** The token from an invitation link, kept in memory once read from the address. */
let invitation: string | null = null

function forgetInvitationLink() {
  const url = new URL(location.href)
  url.searchParams.delete('invitation')
  history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`)
}

async function openInvitation(token: string) {
  invitation = token
  try {
    const info = await authApi.invitation(token)
    if (info.name) {
      $('invitation-welcome').textContent = `Welcome, ${info.name}.`
      $('invitation-welcome').hidden = false
    }
    if (info.email) input('invitation-username').value = info.email
  } catch (e) {
    if (is(e, 410)) {
      invitation = null
      forgetInvitationLink()
      return showSignIn(INVITATION_GONE)
    }
    // Otherwise the link's details are just not known here: the password form works without them.
  }
  show('invitation-view')
}

form('accept-invitation').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const password = input('invitation-password').value
  if (password !== input('invitation-password-again').value) {
    say('invitation-message', NOT_THE_SAME)
    return input('invitation-password-again').focus()
  }
  const token = invitation
  if (!token) return showSignIn()
  say('invitation-message', '')
  void busy(form('accept-invitation'), async () => {
    try {
      const me = await authApi.acceptInvitation(token, password)
      invitation = null
      forgetInvitationLink()
      await enter(me, sessionOf(me))
    } catch (e) {
      if (is(e, 410) || is(e, 404)) {
        invitation = null
        forgetInvitationLink()
        return showSignIn(INVITATION_GONE)
      }
      say('invitation-message', messageOf(e))
    }
  })
})

$('sign-out').addEventListener('click', () => {
  const signedIn = current
  if (!signedIn) return showSignIn()
  const c = signedIn.credentials
  if (c.kind === 'bearer') return showSignIn('You have signed out. The token itself stays valid until it expires or is revoked.', 'notice')
  void (async () => {
    try {
      await authApi.signOut(c.csrf)
    } catch (e) {
      if (!is(e, 401)) return say('shell-message', `Signing out did not complete: ${messageOf(e)}`)
    }
    showSignIn('You have signed out.', 'notice')
  })()
})

async function showProviders() {
  try {
    const p = await authApi.providers()
    if (p.sso) {
      const link = $<HTMLAnchorElement>('sso-link')
      link.href = p.sso.start
      link.textContent = `Sign in with ${p.sso.name}`
      $('sso').hidden = false
    }
  } catch {
    // Without the list, email and password still work.
  }
}

/** InfluxDB and log state from /ready: readings wait in the log while InfluxDB is away and land after. */
async function showHealth() {
  try {
    const r = (await (await fetch('/ready')).json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> }
    const influx = r.checks.influxdb
    $('health').textContent =
      `InfluxDB ${influx?.ok ? 'ok' : `degraded (${influx?.detail ?? 'unknown'})`} · ${r.checks['reader:influxdb']?.detail ?? '?'}` +
      (r.checks.log?.ok === false ? ` · ${r.checks.log.detail}` : '')
    $('health').className = r.status === 'ready' ? 'muted' : 'error'
  } catch {
    $('health').textContent = 'service unreachable'
  }
}

/** Where a fresh page starts: an invitation link, this tab's token, the session cookie, or the sign-in form. */
async function boot() {
  const link = new URLSearchParams(location.search).get('invitation')
  if (link) return openInvitation(link)
  const saved = sessionStorage.getItem(TOKEN_KEY)
  if (saved) return signInWithToken(saved)
  const early = localStorage.getItem(LANDING_KEY) === 'round' && ['', '#round'].includes(location.hash) ? prefetchRound() : null
  try {
    // Asked early, and any failure asked again the usual way, which says why (signed out, unreachable).
    const me = early ? await early.catch(() => authApi.me()) : await authApi.me()
    await enter(me, sessionOf(me))
  } catch (e) {
    showSignIn(is(e, 401) ? '' : messageOf(e))
  }
}

// Moving between views (the menu, a link inside a view, back and forward) opens the one the address names.
// Whoever is signed in (the menu shows as soon as they are, before their first view has loaded, so a
// tap on it may come first), unless a password change is owed or an invitation is being accepted.
window.addEventListener('hashchange', () => {
  const signedIn = current
  if (signedIn && !signedIn.me.mustChangePassword && visible !== 'change-password-view' && visible !== 'invitation-view')
    void enter(signedIn.me, signedIn.credentials)
})

// The header's health line once the first view has painted: its answer need not share a slow line with the view's.
void boot().finally(() => afterPaint(() => void showHealth()))
setInterval(showHealth, 10_000)
