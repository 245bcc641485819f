import type { Person, Rule, RuleOverrideHistoryEntry, StoredRuleOverride } from '#devices'
import type { AdminPage } from './admin.ts'
import { adminForm, call, checkbox, confirmStep, el, field, london, nextId, selectField } from './admin-dom.ts'
import { endedBy, failure, say } from './view.ts'

interface TypeRules {
  type: string
  title: string
  rules: Rule[]
}

const change = (o: { params: Record<string, unknown>; disabled: boolean } | null) =>
  !o ? 'none' : o.disabled ? 'switched off' : Object.keys(o.params).length ? JSON.stringify(o.params) : 'no change to the catalogue'

/** Rule overrides: what is set now, setting or removing one for a site or a device, and the history of changes. */
export const startRules: AdminPage = async (ctx, message) => {
  let catalogue: TypeRules[] = []
  const names = new Map<string, string>()
  const who = (actor: string) =>
    actor === 'admin-token' ? 'the admin token' : actor === 'system' ? 'the service' : (names.get(actor.replace(/^person:/, '')) ?? actor)
  const titleOf = (id: string) => catalogue.flatMap((t) => t.rules).find((r) => r.id === id)?.title ?? id

  const setForm = el('details', { className: 'admin-disclosure' }, el('summary', { text: 'Set an override' }))
  const nowH = el('h3', { text: 'Overrides in force', attrs: { id: 'admin-ov-h', tabindex: '-1' } })
  const now = el('ul', { className: 'admin-cards', attrs: { 'aria-labelledby': 'admin-ov-h' } })
  const histH = el('h3', { text: 'History (newest first)', attrs: { id: 'admin-ovh-h' } })
  const history = el('ul', { className: 'admin-cards', attrs: { 'aria-labelledby': 'admin-ovh-h' } })
  ctx.root.append(setForm, nowH, now, histH, history)

  const buildForm = () => {
    const {
      form,
      message: m,
      submit,
    } = adminForm(ctx, 'Set the override', async () => {
      let params: unknown = {}
      if (paramsBox.value.trim()) {
        try {
          params = JSON.parse(paramsBox.value)
        } catch {
          return say(m, 'The changed fields are not valid JSON: write them like {"raiseAt": 0.9}.')
        }
      }
      const path = [scope.value, target.value.trim(), rule.value].map(encodeURIComponent).join('/')
      await call(ctx, `/api/rules/overrides/${path}`, 'PUT', {
        params,
        disabled: off.checked,
        ...(note.value.trim() ? { note: note.value.trim() } : {}),
      })
      say(message, `The override of ${titleOf(rule.value)} for ${target.value.trim()} is set.`, 'notice')
      form.reset()
      showRule()
      await load()
    })
    const scope = selectField(form, 'For', [
      ['site', 'A site (every device there)'],
      ['device', 'One device'],
    ])
    const target = field(form, 'Site or device id', { required: '', autocomplete: 'off', spellcheck: 'false' })
    const rule = el('select')
    rule.id = nextId('f')
    for (const t of catalogue) {
      const group = el('optgroup', { attrs: { label: t.title } })
      for (const r of t.rules) group.append(el('option', { text: `${r.title} (${r.id})`, attrs: { value: r.id } }))
      rule.append(group)
    }
    form.append(el('div', { className: 'admin-field' }, el('label', { text: 'Rule', attrs: { for: rule.id } }), rule))
    const current = el('pre', { className: 'admin-payload' })
    form.append(el('p', { className: 'admin-label', text: 'The rule as the catalogue has it:' }), current)
    const off = checkbox(form, 'Switch this rule off here')
    const paramsId = nextId('f')
    const paramsBox = el('textarea', { attrs: { id: paramsId, rows: '3', spellcheck: 'false', 'aria-describedby': `${paramsId}-hint` } })
    form.append(
      el(
        'div',
        { className: 'admin-field' },
        el('label', { text: 'Changed fields (JSON, optional)', attrs: { for: paramsId } }),
        paramsBox,
      ),
      el('p', {
        className: 'hint',
        text: 'Each field given replaces the catalogue’s whole, e.g. {"raiseAt": 0.9, "clearAt": 0.6}; null removes an optional one.',
        attrs: { id: `${paramsId}-hint` },
      }),
    )
    const note = field(form, 'Why (optional, for the next person)', { maxlength: '500' })
    const showRule = () => {
      const r = catalogue.flatMap((t) => t.rules).find((x) => x.id === rule.value)
      current.textContent = r ? JSON.stringify(r, null, 1) : ''
    }
    rule.addEventListener('change', showRule)
    showRule()
    form.append(submit, m)
    setForm.append(form)
  }

  const overrideCard = (o: StoredRuleOverride) => {
    const what = `${titleOf(o.ruleId)} for ${o.scope} ${o.target}`
    return el(
      'li',
      { className: 'admin-card' },
      el('strong', { text: what }),
      el('p', { text: `Change: ${change(o)}` }),
      el('p', { className: 'hint', text: `Set by ${who(o.updatedBy)}, ${london(o.updatedAt)}${o.note ? `. Why: ${o.note}` : ''}` }),
      confirmStep(
        `Remove override: ${what}`,
        `Remove the override of ${what}? The rule goes back to the site’s or the catalogue’s values.`,
        `Yes, remove: ${what}`,
        async () => {
          const path = [o.scope, o.target, o.ruleId].map(encodeURIComponent).join('/')
          await call(ctx, `/api/rules/overrides/${path}`, 'DELETE')
          say(message, `The override of ${what} is removed.`, 'notice')
          await load()
          nowH.focus()
        },
      ),
    )
  }
  const historyItem = (h: RuleOverrideHistoryEntry) =>
    el(
      'li',
      { className: 'admin-card' },
      el('strong', { text: `${h.action === 'set' ? 'Set' : 'Removed'}: ${titleOf(h.ruleId)} for ${h.scope} ${h.target}` }),
      el('p', { text: `${london(h.at)} by ${who(h.actor)}` }),
      el('p', { className: 'hint', text: `Before: ${change(h.before)}. After: ${change(h.after)}.${h.note ? ` Why: ${h.note}` : ''}` }),
    )

  const load = async () => {
    try {
      const [current, past] = await Promise.all([
        call<StoredRuleOverride[]>(ctx, '/api/rules/overrides'),
        call<RuleOverrideHistoryEntry[]>(ctx, '/api/rules/overrides/history?limit=50'),
      ])
      now.replaceChildren(
        ...(current.length ? current.map(overrideCard) : [el('li', { text: 'No overrides: every rule is as the catalogue has it.' })]),
      )
      history.replaceChildren(...(past.length ? past.map(historyItem) : [el('li', { text: 'No changes yet.' })]))
    } catch (e) {
      if (!endedBy(e, ctx.onEnded)) say(message, `The overrides could not load: ${failure(e)}`)
    }
  }
  try {
    const [rules, people] = await Promise.all([call<TypeRules[]>(ctx, '/api/rules'), call<Person[]>(ctx, '/api/people')])
    catalogue = rules
    for (const p of people) names.set(p.id, p.name)
  } catch (e) {
    if (endedBy(e, ctx.onEnded)) return { stop() {} }
    say(message, `The rule catalogue could not load: ${failure(e)}`)
  }
  buildForm()
  await load()
  return { stop() {} }
}
