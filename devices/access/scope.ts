import { type DataClass, dataClassOf, type Grant, ROLE_RIGHTS, type Role, typesOfClass } from './roles.ts'

/** One grant with its areas resolved to sites; `sites: null` is everywhere. */
export interface SiteGrant {
  role: Role
  sites: ReadonlySet<string> | null
}

/** A slice of the data a caller may see: these device types, at these sites (null: any site). */
export interface Visible {
  types: readonly string[]
  sites: readonly string[] | null
}

export type Mode = 'read' | 'write'

/**
 * What one caller may see and do, decided from their grants alone. Every route and every
 * live event asks it the same questions, so a rule cannot differ between them.
 */
export interface Scope {
  readonly roles: readonly Role[]
  readonly isAdmin: boolean
  /** Whether people's names and notes are shown (every role but viewer). */
  readonly seesPeople: boolean
  /** May the caller read (or act on) data of this device type at this site? */
  device(type: string, site: string | null, mode?: Mode): boolean
  /** May the caller read (or act on) any data of this class at this site? */
  data(dataClass: DataClass, site: string | null, mode?: Mode): boolean
  /** Any access at all to a site (an incident there, a round of it). */
  site(site: string | null, mode?: Mode): boolean
  /** The slices to filter a listing by; empty means nothing. */
  visible(mode?: Mode): Visible[]
  /** The sites where the scope reaches this class of data (any class when omitted); null: every site. */
  sites(dataClass?: DataClass, mode?: Mode): string[] | null
}

const inSites = (g: SiteGrant, site: string | null) => g.sites === null || (site !== null && g.sites.has(site))

export function scopeOf(grants: readonly SiteGrant[]): Scope {
  const roles = [...new Set(grants.map((g) => g.role))]
  const allows = (g: SiteGrant, c: DataClass, mode: Mode) => ROLE_RIGHTS[g.role][mode].includes(c)
  const scope: Scope = {
    roles,
    isAdmin: grants.some((g) => g.role === 'admin' && g.sites === null),
    seesPeople: grants.some((g) => ROLE_RIGHTS[g.role].seesPeople),
    data(c, site, mode = 'read') {
      return grants.some((g) => allows(g, c, mode) && inSites(g, site))
    },
    device(type, site, mode = 'read') {
      const c = dataClassOf(type)
      return c !== undefined && scope.data(c, site, mode)
    },
    site(site, mode = 'read') {
      return grants.some((g) => ROLE_RIGHTS[g.role][mode].length > 0 && inSites(g, site))
    },
    visible(mode = 'read') {
      return grants
        .filter((g) => ROLE_RIGHTS[g.role][mode].length > 0)
        .map((g) => ({
          types: ROLE_RIGHTS[g.role][mode].flatMap(typesOfClass),
          sites: g.sites === null ? null : [...g.sites],
        }))
    },
    sites(dataClass, mode = 'read') {
      const reaching = grants.filter((g) => (dataClass === undefined ? ROLE_RIGHTS[g.role][mode].length > 0 : allows(g, dataClass, mode)))
      if (reaching.some((g) => g.sites === null)) return null
      return [...new Set(reaching.flatMap((g) => [...(g.sites ?? [])]))]
    },
  }
  return scope
}

/** Resolves each grant's areas to their sites. An area with no sites grants nothing, not everything. */
export function siteGrants(grants: readonly Grant[], sitesOfArea: (area: string) => readonly string[]): SiteGrant[] {
  return grants.map((g) => ({
    role: g.role,
    sites: g.areas === null ? null : new Set(g.areas.flatMap((a) => sitesOfArea(a))),
  }))
}

/** Keeps the listed items the scope may see. */
export function visibleIn(v: readonly Visible[], type: string, site: string): boolean {
  return v.some((s) => s.types.includes(type) && (s.sites === null || s.sites.includes(site)))
}
