import type { Device, ReadingRecord, SilentDevice } from '#devices'
import type { AlertEngine, EngineDevice } from '../alerts/engine.ts'
import { partitionOf } from '../log/partition.ts'

/** What the rest of the service asks of the alert engine, whether there is one (one machine) or one per owned partition. */
export type AlertEngines = Pick<AlertEngine, 'checkSilence' | 'tick' | 'outlook' | 'noteCollection'>

/**
 * Cluster mode: this node runs one alert engine per partition it owns. Timers and the API reach
 * the engine of a device's partition; a device whose partition another node owns is that node's
 * to check, so it is skipped here.
 */
export function createEngineRouter(
  partitions: number,
  /** When this node last heard from a device, whichever node took its readings (live state, fed by the log follow). */
  heardOf: (deviceId: string) => number | null = () => null,
  /**
   * Since when `heardOf` has known every device's readings without a break (the log follow); null
   * while it does not, and then a site's incident is judged on this node's partitions alone: a
   * device whose readings this node missed must not look silent.
   */
  knownSince: () => number | null = () => null,
) {
  const engines = new Map<number, AlertEngine>()
  const of = (deviceId: string) => engines.get(partitionOf(deviceId, partitions))
  const each = async (list: readonly Device[], run: (e: AlertEngine, mine: Device[], p: number) => Promise<unknown>) => {
    const split = new Map<number, Device[]>()
    for (const d of list) {
      const p = partitionOf(d.id, partitions)
      if (!engines.has(p)) continue
      const l = split.get(p)
      if (l) l.push(d)
      else split.set(p, [d])
    }
    for (const [p, mine] of split) await run(engines.get(p)!, mine, p)
  }
  const router: AlertEngines & {
    add(p: number, e: AlertEngine): void
    remove(p: number): void
    /** Whether this node reads the partition of that device now. */
    owns(deviceId: string): boolean
    noteSite(r: ReadingRecord): void
    noteCollections(marks: ReadonlyMap<string, number>): Promise<void>
  } = {
    owns: (deviceId) => engines.has(partitionOf(deviceId, partitions)),
    add: (p, e) => void engines.set(p, e),
    remove: (p) => void engines.delete(p),
    // A site's devices are spread over the partitions: each engine judges an incident on all of them.
    checkSilence: (list, t) => {
      const bySite = new Map<string, Device[]>()
      for (const d of list) {
        const l = bySite.get(d.site)
        if (l) l.push(d)
        else bySite.set(d.site, [d])
      }
      const known = knownSince()
      // Counted from when the follow began, as an engine counts from its own start.
      const elsewhere = (p: number) =>
        known === null
          ? undefined
          : (site: string): SilentDevice[] =>
              (bySite.get(site) ?? [])
                .filter((d) => partitionOf(d.id, partitions) !== p)
                .map((d) => ({
                  id: d.id,
                  since: Math.max(heardOf(d.id) ?? known, known, Date.parse(d.createdAt)),
                  intervalS: d.intervalS,
                }))
      return each(list, (e, mine, p) => e.checkSilence(mine, t, elsewhere(p))) as ReturnType<AlertEngine['checkSilence']>
    },
    tick: (list, t) => each(list, (e, mine) => e.tick(mine, t)) as ReturnType<AlertEngine['tick']>,
    outlook: (d: EngineDevice, ruleId: string) => of(d.id)?.outlook(d, ruleId) ?? null,
    /** A reading another partition's reader takes that supplies its site's values: every engine here but its own hears of it. */
    noteSite: (r: ReadingRecord) => {
      for (const [p, e] of engines) if (p !== partitionOf(r.deviceId, partitions)) e.noteSite(r)
    },
    /** Crews' latest marks: each engine here takes those of its partition's bins. */
    noteCollections: async (marks: ReadonlyMap<string, number>) => {
      for (const e of engines.values()) await e.noteCollections(marks)
    },
    noteCollection: (deviceId, at) =>
      of(deviceId)?.noteCollection(deviceId, at) ?? (Promise.resolve() as ReturnType<AlertEngine['noteCollection']>),
  }
  return router
}
