import { type Grant, Grants } from '#devices'

/**
 * The groups claim as a list of names. Providers send an array of strings; some send a
 * single group as a plain string. Anything else counts as no groups.
 */
export function groupsOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim ? [claim] : []
  if (!Array.isArray(claim)) return []
  return claim.filter((g): g is string => typeof g === 'string' && g.length > 0)
}

/**
 * The grants a person's groups give: the union over every group the map knows, one grant
 * per role (areas merged, in the order first met; `null`, every area, wins). Own keys only,
 * so a group named `constructor` or `__proto__` maps to nothing.
 * Returns `invalid` when the union is too large to hold (more areas than a grant allows).
 */
export function grantsFromGroups(groups: readonly string[], map: Readonly<Record<string, Grant[]>>): Grant[] | 'invalid' {
  const byRole = new Map<Grant['role'], string[] | null>()
  for (const group of groups) {
    if (!Object.hasOwn(map, group)) continue
    for (const g of map[group]!) {
      const had = byRole.get(g.role)
      if (had === null) continue
      if (g.areas === null) byRole.set(g.role, null)
      else byRole.set(g.role, had === undefined ? [...g.areas] : [...new Set([...had, ...g.areas])])
    }
  }
  const grants = [...byRole].map(([role, areas]) => ({ role, areas }))
  if (grants.length === 0) return []
  const parsed = Grants.safeParse(grants)
  return parsed.success ? parsed.data : 'invalid'
}

/** Same grants, whatever the order of grants and areas. */
export function sameGrants(a: readonly Grant[], b: readonly Grant[]): boolean {
  const key = (gs: readonly Grant[]) =>
    gs
      .map((g) => `${g.role}:${g.areas === null ? '*' : [...new Set(g.areas)].sort().join(',')}`)
      .sort()
      .join(';')
  return key(a) === key(b)
}
