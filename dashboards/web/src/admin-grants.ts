import type { Area, Grant, Role } from '#devices'
import { button, checkbox, el, nextId, selectField } from './admin-dom.ts'

// Every role, checked against the shared type (a runtime import would load the whole device catalogue).
const ROLE_WORDS: Record<Role, string> = {
  admin: 'Administrator (everything, everywhere)',
  crew: 'Waste crew',
  housing: 'Housing officer',
  energy: 'Energy manager',
  viewer: 'Viewer (reads waste and energy, no names)',
}

/**
 * Roles and areas as fields: one group per role, each with its areas as tick boxes and
 * "every area". `read()` gives the grants as the server takes them, or a sentence saying what is missing.
 */
export function grantsEditor(areas: readonly Area[], initial: readonly Grant[]): { element: HTMLElement; read(): Grant[] | string } {
  const element = el('div', { className: 'admin-grants' })
  const rows: { box: HTMLElement; role: HTMLSelectElement; every: HTMLInputElement; ticks: HTMLInputElement[] }[] = []
  const addButton = button(
    'Add another role',
    () => {
      add({ role: 'viewer', areas: null })
      rows.at(-1)?.role.focus()
    },
    'secondary',
  )

  const renumber = () =>
    rows.forEach((r, i) => {
      const legend = r.box.querySelector('legend')
      if (legend) legend.textContent = `Role ${i + 1}`
      const remove = r.box.querySelector<HTMLButtonElement>('button.remove-role')
      if (remove) {
        remove.textContent = `Remove role ${i + 1}`
        remove.hidden = rows.length === 1
      }
    })

  const add = (g: Grant) => {
    const box = el('fieldset', { className: 'admin-grant' }, el('legend', { text: 'Role' }))
    const role = selectField(
      box,
      'Role',
      (Object.keys(ROLE_WORDS) as Role[]).map((r) => [r, ROLE_WORDS[r]] as const),
    )
    role.value = g.role
    const areaSet = el('fieldset', { className: 'admin-areas' }, el('legend', { text: 'Areas' }))
    const every = checkbox(areaSet, 'Every area')
    every.checked = g.areas === null
    const ticks = areas.map((a) => {
      const t = checkbox(areaSet, `${a.name} (${a.kind})`, a.id)
      t.checked = g.areas?.includes(a.id) ?? false
      return t
    })
    // "Every area" and single areas exclude each other: ticking one clears the other. An admin holds every area.
    const sync = () => {
      if (role.value === 'admin') every.checked = true
      every.disabled = role.value === 'admin'
      for (const t of ticks) {
        t.disabled = role.value === 'admin'
        if (every.checked) t.checked = false
      }
    }
    role.addEventListener('change', sync)
    every.addEventListener('change', sync)
    for (const t of ticks)
      t.addEventListener('change', () => {
        if (t.checked) every.checked = false
      })
    sync()
    box.append(areaSet)
    const row = { box, role, every, ticks }
    const remove = button(
      'Remove role',
      () => {
        rows.splice(rows.indexOf(row), 1)
        box.remove()
        renumber()
        addButton.focus()
      },
      'secondary remove-role',
    )
    box.append(remove)
    rows.push(row)
    element.insertBefore(box, addButton)
    renumber()
  }
  element.append(addButton)
  for (const g of initial.length ? initial : [{ role: 'viewer' as const, areas: null }]) add(g)
  element.id = nextId('grants')

  const read = (): Grant[] | string => {
    const grants: Grant[] = []
    for (const [i, r] of rows.entries()) {
      const role = r.role.value as Role
      if (role === 'admin' || r.every.checked) grants.push({ role, areas: null })
      else {
        const picked = r.ticks.filter((t) => t.checked).map((t) => t.value)
        if (!picked.length) return `Role ${i + 1}: tick at least one area, or "Every area".`
        grants.push({ role, areas: picked })
      }
    }
    return grants
  }
  return { element, read }
}
