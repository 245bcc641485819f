import { endedBy, failure, say, type ViewContext } from './view.ts'

/** An element with text and children; never HTML, so data cannot become markup. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (props.className) e.className = props.className
  if (props.text !== undefined) e.textContent = props.text
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v)
  e.append(...children)
  return e
}

export const button = (text: string, onClick: () => void, className = '') => {
  const b = el('button', { text, className, attrs: { type: 'button' } })
  b.addEventListener('click', onClick)
  return b
}

let unique = 0
/** Ids for labels and descriptions; unique across the page, so two forms never share one. */
export const nextId = (prefix: string) => `${prefix}-${++unique}`

/** A labelled input (with an optional hint it is described by), appended to `parent`. */
export function field(parent: HTMLElement, label: string, attrs: Record<string, string> = {}, hint?: string): HTMLInputElement {
  const input = el('input', { attrs: { type: 'text', ...attrs } })
  input.id = nextId('f')
  const wrap = el('div', { className: 'admin-field' }, el('label', { text: label, attrs: { for: input.id } }), input)
  if (hint) {
    const h = el('p', { className: 'hint', text: hint })
    h.id = `${input.id}-hint`
    input.setAttribute('aria-describedby', h.id)
    wrap.append(h)
  }
  parent.append(wrap)
  return input
}

/** A labelled select of [value, words] pairs. */
export function selectField(parent: HTMLElement, label: string, options: readonly (readonly [string, string])[], name = '') {
  const select = el('select', { attrs: name ? { name } : {} })
  select.id = nextId('f')
  for (const [value, words] of options) select.append(el('option', { text: words, attrs: { value } }))
  parent.append(el('div', { className: 'admin-field' }, el('label', { text: label, attrs: { for: select.id } }), select))
  return select
}

export function checkbox(parent: HTMLElement, label: string, value = ''): HTMLInputElement {
  const input = el('input', { attrs: { type: 'checkbox', value } })
  input.id = nextId('c')
  parent.append(el('div', { className: 'admin-check' }, input, el('label', { text: label, attrs: { for: input.id } })))
  return input
}

/**
 * The server's words for a refusal, with the fields it names when the error carries them
 * (`issues`, e.g. which rule field an override breaks), so "see issues" can be followed.
 */
export function refusal(e: unknown): string {
  const issues = e instanceof Error && 'issues' in e && Array.isArray(e.issues) ? (e.issues as unknown[]) : []
  const words = issues.flatMap((i) =>
    typeof i === 'object' && i !== null && 'message' in i
      ? [`${'path' in i && i.path ? `${String(i.path)}: ` : ''}${String(i.message)}`]
      : [],
  )
  return words.length ? `${failure(e)} (${words.join('; ')})` : failure(e)
}

/** A form whose submit runs `work` once at a time, and shows the server's own words when it fails. */
export function adminForm(
  ctx: ViewContext,
  submitText: string,
  work: (form: HTMLFormElement) => Promise<void>,
): { form: HTMLFormElement; message: HTMLParagraphElement; submit: HTMLButtonElement } {
  const form = el('form', { className: 'admin-form' })
  form.noValidate = false
  const message = el('p', { attrs: { role: 'alert', 'aria-live': 'assertive' } })
  const submit = el('button', { text: submitText, attrs: { type: 'submit' } })
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    if (submit.disabled) return
    submit.disabled = true
    form.setAttribute('aria-busy', 'true')
    say(message, '')
    work(form)
      .catch((e: unknown) => {
        if (!endedBy(e, ctx.onEnded)) say(message, refusal(e))
      })
      .finally(() => {
        submit.disabled = false
        form.removeAttribute('aria-busy')
      })
  })
  return { form, message, submit }
}

/** A call with this view's credentials (the CSRF header on writes). */
export const call = <T>(ctx: ViewContext, path: string, method = 'GET', body?: unknown) => ctx.api.send<T>(path, method, body)

const LONDON = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
})
/** "Mon 30 Nov 2026, 19:08", London time whatever the computer is set to; "never" for none. */
export const london = (iso: string | null, none = 'never') => (iso ? LONDON.format(Date.parse(iso)) : none)

/**
 * A destructive action asks once more in place: the first button names what it acts on, and the
 * question that replaces it names it again, with a way back. Focus follows, so a keyboard user
 * is never left on a button that has gone.
 */
export function confirmStep(text: string, question: string, yes: string, act: () => Promise<void>): HTMLElement {
  const box = el('div', { className: 'admin-confirm' })
  const start = button(text, () => ask(), 'danger')
  const ask = () => {
    const message = el('p', { attrs: { role: 'alert' } })
    const doIt = button(
      yes,
      () => {
        doIt.disabled = true
        act()
          .catch((e: unknown) => say(message, failure(e)))
          .finally(() => {
            doIt.disabled = false
          })
      },
      'danger',
    )
    const back = button(
      'Cancel',
      () => {
        box.replaceChildren(start)
        start.focus()
      },
      'secondary',
    )
    back.setAttribute('aria-label', `Cancel: ${text}`)
    box.replaceChildren(
      el('p', { className: 'admin-question', text: question }),
      el('div', { className: 'admin-actions' }, doIt, back),
      message,
    )
    doIt.focus()
  }
  box.append(start)
  return box
}

/** A one-time value (a secret, a link) in a read-only box with a copy button named after what it copies. */
export function onceBox(parent: HTMLElement, label: string, value: string, copyName: string): HTMLInputElement {
  const input = field(parent, label, { readonly: '', spellcheck: 'false', autocomplete: 'off' })
  input.value = value
  input.classList.add('admin-once')
  const note = el('p', { className: 'hint', attrs: { 'aria-live': 'polite' } })
  const copy = button(
    copyName,
    () => {
      input.select()
      const manual = () => say(note, 'Copying is not allowed here (it needs https): the text is selected, copy it yourself.')
      // The clipboard API exists only on secure pages; plain http on a depot network has none.
      if (!navigator.clipboard) return manual()
      navigator.clipboard.writeText(value).then(() => say(note, 'Copied.', 'notice'), manual)
    },
    'secondary',
  )
  parent.append(copy, note)
  return input
}
