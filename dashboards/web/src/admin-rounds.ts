import type { Round } from '#devices'
import type { AdminPage } from './admin.ts'
import { adminForm, button, call, checkbox, el, field } from './admin-dom.ts'
import type { DeviceWithState } from './api.ts'
import { endedBy, failure, say, type ViewContext } from './view.ts'

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']

/** "Mondays and Thursdays at 07:00 (London time)". Weekdays are ISO: 1 = Monday. */
function scheduleWords(s: Round['schedule']): string {
  const days = [...s.weekdays].sort((a, b) => a - b).map((d) => `${DAYS[d - 1]}s`)
  const list = days.length === 7 ? 'Every day' : days.length > 1 ? `${days.slice(0, -1).join(', ')} and ${days.at(-1)}` : days[0]
  return `${list} at ${s.time} (London time)`
}

/** Name, site and schedule fields, filled from `r` when editing. */
function roundFields(form: HTMLFormElement, r: Round | null) {
  const name = field(form, 'Round name', { required: '', maxlength: '120' })
  const site = field(
    form,
    'Site (optional)',
    { autocomplete: 'off', spellcheck: 'false', pattern: '[a-z0-9][a-z0-9\\-]{0,63}' },
    'The site its bins are at, e.g. riverside; crews of that area see the round.',
  )
  const days = el('fieldset', { className: 'admin-days' }, el('legend', { text: 'Collection days' }))
  const ticks = DAYS.map((d, i) => checkbox(days, d, String(i + 1)))
  form.append(days)
  const time = field(form, 'Time the crew passes (London time)', { type: 'time', required: '' })
  name.value = r?.name ?? ''
  site.value = r?.site ?? ''
  time.value = r?.schedule.time ?? '07:00'
  for (const t of ticks) t.checked = r?.schedule.weekdays.includes(Number(t.value)) ?? false
  return () => ({
    name: name.value.trim(),
    site: site.value.trim() || null,
    schedule: { weekdays: ticks.filter((t) => t.checked).map((t) => Number(t.value)), time: time.value },
  })
}

/** Bins not on the round offered to add; its own bins are always all listed. */
const OTHERS_SHOWN = 300

/**
 * The bins on a round as tick boxes: its own first, in driving order (stop 1 first), every one of
 * them; then others at its site to add, which join the end of the round in the order listed. Saving
 * sends the whole list in that order, so the stops the crew sees keep their numbers.
 */
function binsForm(ctx: ViewContext, r: Round, bins: DeviceWithState[], done: () => Promise<void>) {
  const { form, message, submit } = adminForm(ctx, `Save bins: ${r.name}`, async () => {
    const deviceIds = ticks.filter((t) => t.checked).map((t) => t.value)
    await call<Round>(ctx, `/api/rounds/${encodeURIComponent(r.id)}/bins`, 'PUT', { deviceIds })
    await done()
  })
  const byId = new Map(bins.map((b) => [b.id, b]))
  const onIt = new Set(r.deviceIds)
  const others = bins.filter((b) => !onIt.has(b.id) && (r.site === null || b.site === r.site)).slice(0, OTHERS_SHOWN)
  const set = el('fieldset', { className: 'admin-bins' }, el('legend', { text: `Bins on ${r.name}, in driving order` }))
  const ticks = [
    ...r.deviceIds.map((id, i) => {
      const b = byId.get(id)
      const t = checkbox(set, `Stop ${i + 1}: ${b ? `${b.name} (${id}, ${b.site})` : id}`, id)
      t.checked = true
      return t
    }),
    ...others.map((b) => checkbox(set, `Add: ${b.name} (${b.id}, ${b.site})`, b.id)),
  ]
  if (!ticks.length) set.append(el('p', { text: 'No bins at this site yet: provision them on the Devices page.' }))
  form.append(set, submit, message)
  return form
}

/** Rounds: their schedules in words, a new round, and each round's schedule and bins. */
export const startRounds: AdminPage = async (ctx, message) => {
  let bins: DeviceWithState[] = []
  const create = el('details', { className: 'admin-disclosure' }, el('summary', { text: 'Create a round' }))
  const listH = el('h3', { text: 'Rounds', attrs: { id: 'admin-rounds-h', tabindex: '-1' } })
  const list = el('ul', { className: 'admin-cards', attrs: { 'aria-labelledby': 'admin-rounds-h' } })
  ctx.root.append(create, listH, list)

  {
    const {
      form,
      message: m,
      submit,
    } = adminForm(ctx, 'Create the round', async () => {
      const body = { ...values(), ...(id.value.trim() ? { id: id.value.trim() } : {}) }
      const r = await call<Round>(ctx, '/api/rounds', 'POST', body)
      form.reset()
      create.open = false
      say(message, `Round ${r.name} is created: ${scheduleWords(r.schedule)}. Add its bins below.`, 'notice')
      await load()
      listH.focus()
    })
    const id = field(
      form,
      'Round id (optional)',
      { autocomplete: 'off', spellcheck: 'false', pattern: '[a-z0-9][a-z0-9\\-]{0,63}' },
      'Lower-case letters, digits and hyphens; left empty, one is made up.',
    )
    const values = roundFields(form, null)
    form.append(submit, m)
    create.append(form)
  }

  const card = (r: Round) => {
    const names = r.deviceIds.map((id) => bins.find((b) => b.id === id)?.name ?? id)
    const spot = el('div')
    const toggle = (b: HTMLButtonElement, make: () => HTMLElement) => {
      const open = b.getAttribute('aria-expanded') === 'true'
      for (const other of li.querySelectorAll('button[aria-expanded]')) other.setAttribute('aria-expanded', 'false')
      if (open) return spot.replaceChildren()
      b.setAttribute('aria-expanded', 'true')
      spot.replaceChildren(make())
      spot.querySelector<HTMLElement>('input, select')?.focus()
    }
    const editSchedule: HTMLButtonElement = button(
      `Edit schedule: ${r.name}`,
      () =>
        toggle(editSchedule, () => {
          const {
            form,
            message: m,
            submit,
          } = adminForm(ctx, `Save schedule: ${r.name}`, async () => {
            await call<Round>(ctx, `/api/rounds/${encodeURIComponent(r.id)}`, 'PUT', values())
            say(message, `${r.name} is saved.`, 'notice')
            await load()
            // The form that had focus is gone with the reload: the list's heading takes it.
            listH.focus()
          })
          const values = roundFields(form, r)
          form.append(submit, m)
          return form
        }),
      'secondary',
    )
    const editBins: HTMLButtonElement = button(
      `Edit bins: ${r.name}`,
      () =>
        toggle(editBins, () =>
          binsForm(ctx, r, bins, async () => {
            say(message, `The bins on ${r.name} are saved.`, 'notice')
            await load()
            // The form that had focus is gone with the reload: the list's heading takes it.
            listH.focus()
          }),
        ),
      'secondary',
    )
    for (const b of [editSchedule, editBins]) b.setAttribute('aria-expanded', 'false')
    const li = el(
      'li',
      { className: 'admin-card' },
      el('strong', { text: r.name }),
      el('span', { className: 'hint', text: ` ${r.id}${r.site ? ` · site ${r.site}` : ''}` }),
      el('p', { text: scheduleWords(r.schedule) }),
      el('p', { text: names.length ? `${names.length} ${names.length === 1 ? 'bin' : 'bins'}: ${names.join(', ')}` : 'No bins yet.' }),
      el('div', { className: 'admin-actions' }, editSchedule, editBins),
      spot,
    )
    return li
  }

  const load = async () => {
    try {
      const [rounds, all] = await Promise.all([call<Round[]>(ctx, '/api/rounds'), call<DeviceWithState[]>(ctx, '/api/devices?type=bin')])
      bins = all
      list.replaceChildren(...rounds.map(card))
      if (!rounds.length) list.replaceChildren(el('li', { text: 'No rounds yet.' }))
    } catch (e) {
      if (!endedBy(e, ctx.onEnded)) say(message, `The rounds could not load: ${failure(e)}`)
    }
  }
  await load()
  return { stop() {} }
}
