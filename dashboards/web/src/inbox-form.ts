import type { Alert } from '#devices'

export interface Outcome {
  done(what: string, a?: Alert): void | Promise<void>
  refused(e: unknown): void
}

let uid = 0
/** A labelled field; ids are unique per page so several forms can share a name. */
export function field<C extends HTMLInputElement | HTMLSelectElement>(form: HTMLFormElement, label: string, control: C, hint?: string): C {
  control.id = `inbox-f${++uid}`
  const l = document.createElement('label')
  l.htmlFor = control.id
  l.textContent = label
  form.append(l)
  if (hint) {
    const p = document.createElement('p')
    p.className = 'hint'
    p.id = `${control.id}-hint`
    p.textContent = hint
    control.setAttribute('aria-describedby', p.id)
    form.append(p)
  }
  form.append(control)
  return control
}

export const textInput = (name: string, required = false) => {
  const i = document.createElement('input')
  i.type = 'text'
  i.name = name
  i.maxLength = 1000
  i.required = required
  i.autocomplete = 'off'
  return i
}

export const select = (name: string, options: readonly (readonly [string, string])[]) => {
  const s = document.createElement('select')
  s.name = name
  for (const [value, text] of options) s.append(new Option(text, value))
  return s
}

/**
 * A real form whose button names what it acts on ("Acknowledge: Bin full, Market Street"); it sends
 * once at a time and reports the server's answer, a refusal in the server's own words.
 */
export function actionForm(verb: string, label: string, build: (f: HTMLFormElement) => void, send: () => Promise<unknown>, o: Outcome) {
  const f = document.createElement('form')
  f.className = 'inbox-action'
  build(f)
  const b = document.createElement('button')
  b.type = 'submit'
  b.textContent = `${verb}: ${label}`
  f.append(b)
  f.addEventListener('submit', (ev) => {
    ev.preventDefault()
    if (b.disabled) return
    b.disabled = true
    f.setAttribute('aria-busy', 'true')
    void send()
      .then(() => f.reset())
      .catch(o.refused)
      .finally(() => {
        b.disabled = false
        f.removeAttribute('aria-busy')
      })
  })
  return f
}
