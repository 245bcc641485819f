import type { Area, Person } from '#devices'
import type { AdminPage } from './admin.ts'
import { adminForm, button, call, confirmStep, el, field, london, nextId, onceBox } from './admin-dom.ts'
import { grantsEditor } from './admin-grants.ts'
import { describeGrants } from './render.ts'
import { endedBy, failure, say } from './view.ts'

interface Invited {
  person: Person
  invitation: { url: string; expiresAt: string }
}

const STATUS = { active: 'Active', invited: 'Invited: has not set a password yet', disabled: 'Disabled: cannot sign in' } as const

/** The one-time link, shown here only: the server keeps a keyed hash of it. */
function linkPanel(i: Invited): HTMLElement {
  const h = el('h3', { text: `Invitation link for ${i.person.name}: shown once` })
  h.id = nextId('link-h')
  h.tabIndex = -1
  const panel = el('section', { className: 'admin-secret', attrs: { 'aria-labelledby': h.id } }, h)
  panel.append(
    el('p', {
      className: 'admin-warning',
      text: `⚠ Send this link to ${i.person.name} now; it will not be shown again. It works once, until ${london(i.invitation.expiresAt)} (London time). If it is lost, make a new one from the list.`,
    }),
  )
  onceBox(panel, `Invitation link for ${i.person.email}`, i.invitation.url, `Copy invitation link: ${i.person.name}`)
  panel.append(button(`I have sent it: hide the link for ${i.person.name}`, () => panel.remove()))
  return panel
}

/** People: invite (link shown once), change roles and areas, disable. */
export const startPeople: AdminPage = async (ctx, message) => {
  let areas: Area[] = []
  const linkSpot = el('div')
  const showLink = (i: Invited) => {
    linkSpot.replaceChildren(linkPanel(i))
    linkSpot.querySelector('h3')?.focus()
  }
  const invite = el('details', { className: 'admin-disclosure' }, el('summary', { text: 'Invite a person' }))
  const listH = el('h3', { text: 'People', attrs: { id: 'admin-people-h', tabindex: '-1' } })
  const list = el('ul', { className: 'admin-cards', attrs: { 'aria-labelledby': 'admin-people-h' } })
  ctx.root.append(linkSpot, invite, listH, list)

  const inviteForm = () => {
    const editor = grantsEditor(areas, [])
    const {
      form,
      message: m,
      submit,
    } = adminForm(ctx, 'Create the invitation link', async () => {
      const grants = editor.read()
      if (typeof grants === 'string') return say(m, grants)
      const i = await call<Invited>(ctx, '/api/people', 'POST', { email: email.value.trim(), name: name.value.trim(), grants })
      form.reset()
      invite.open = false
      showLink(i)
      await load()
    })
    const email = field(form, 'Email', { type: 'email', required: '', autocomplete: 'off', spellcheck: 'false' })
    const name = field(form, 'Name', { required: '', maxlength: '120', autocomplete: 'off' })
    form.append(editor.element, submit, m)
    invite.append(form)
  }

  const card = (p: Person) => {
    const li = el('li', { className: `admin-card person-${p.status}` })
    const actions = el('div', { className: 'admin-actions' })
    const editSpot = el('div')
    li.append(
      el('strong', { text: p.name }),
      el('span', { className: 'hint', text: ` ${p.email}` }),
      el('p', { text: `Roles: ${describeGrants(p.grants)}${p.grantsSource === 'sso' ? ' (from single sign-on groups)' : ''}` }),
      el('p', { text: `${STATUS[p.status]} · ${p.lastSignInAt ? `last signed in ${london(p.lastSignInAt)}` : 'never signed in'}` }),
      actions,
      editSpot,
    )
    if (p.status === 'disabled') return li
    const change = button(
      `Change roles: ${p.name}`,
      () => {
        if (editSpot.firstChild) {
          editSpot.replaceChildren()
          change.setAttribute('aria-expanded', 'false')
          return
        }
        change.setAttribute('aria-expanded', 'true')
        const editor = grantsEditor(areas, p.grants)
        const {
          form,
          message: m,
          submit,
        } = adminForm(ctx, `Save roles: ${p.name}`, async () => {
          const grants = editor.read()
          if (typeof grants === 'string') return say(m, grants)
          await call<Person>(ctx, `/api/people/${encodeURIComponent(p.id)}/grants`, 'PUT', { grants })
          say(message, `${p.name}'s roles are saved; they are signed out everywhere so the change applies at once.`, 'notice')
          await load()
          // The form that had focus is gone with the reload: the list's heading takes it.
          listH.focus()
        })
        form.append(editor.element, submit, m)
        editSpot.replaceChildren(form)
        editor.element.querySelector('select')?.focus()
      },
      'secondary',
    )
    change.setAttribute('aria-expanded', 'false')
    actions.append(change)
    if (p.status === 'invited')
      actions.append(
        button(
          `New invitation link: ${p.name}`,
          () => {
            call<Invited>(ctx, `/api/people/${encodeURIComponent(p.id)}/invitation`, 'POST', {})
              .then(showLink)
              .catch((e: unknown) => endedBy(e, ctx.onEnded) || say(message, failure(e)))
          },
          'secondary',
        ),
      )
    // The server refuses to disable the person asking; the button is not offered either.
    if (p.id === ctx.me.id) return li
    actions.append(
      confirmStep(
        `Disable: ${p.name}`,
        `Disable ${p.name}? They are signed out everywhere and cannot sign in again; unused invitation links stop working.`,
        `Yes, disable: ${p.name}`,
        async () => {
          await call<Person>(ctx, `/api/people/${encodeURIComponent(p.id)}/disable`, 'POST', {})
          say(message, `${p.name} is disabled.`, 'notice')
          await load()
          listH.focus()
        },
      ),
    )
    return li
  }

  const load = async () => {
    try {
      const people = await call<Person[]>(ctx, '/api/people')
      list.replaceChildren(...people.sort((a, b) => a.name.localeCompare(b.name)).map(card))
    } catch (e) {
      if (!endedBy(e, ctx.onEnded)) say(message, `The list of people could not load: ${failure(e)}`)
    }
  }
  try {
    areas = await call<Area[]>(ctx, '/api/areas')
  } catch (e) {
    if (endedBy(e, ctx.onEnded)) return { stop() {} }
    say(message, `The areas could not load, so only "every area" can be given: ${failure(e)}`)
  }
  inviteForm()
  await load()
  return { stop() {} }
}
