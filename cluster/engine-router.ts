import type { Device, ReadingRecord } from '#devices'
import type { AlertEngine, EngineDevice } from '../alerts/engine.ts'
import { partitionOf } from '../log/partition.ts'

/** What the rest of the service asks of the alert engine, whether there is one (one machine) or one per owned partition. */
export type AlertEngines = Pick<AlertEngine, 'checkSilence' | 'tick' | 'outlook' | 'noteCollection'>

/**
 * Cluster mode: this node runs one alert engine per partition it owns. Timers and the API reach
 * the engine of a device's partition; a device whose partition another node owns is that node's
 * to check, so it is skipped here.
 */
export function createEngineRouter(partitions: number) {
  const engines = new Map<number, AlertEngine>()
  const of = (deviceId: string) => engines.get(partitionOf(deviceId, partitions))
  const each = async (list: readonly Device[], run: (e: AlertEngine, mine: Device[]) => Promise<unknown>) => {
    const split = new Map<number, Device[]>()
    for (const d of list) {
      const p = partitionOf(d.id, partitions)
      if (!engines.has(p)) continue
      const l = split.get(p)
      if (l) l.push(d)
      else split.set(p, [d])
    }
    for (const [p, mine] of split) await run(engines.get(p)!, mine)
  }
  const router: AlertEngines & {
    add(p: number, e: AlertEngine): void
    remove(p: number): void
    /** Whether this node reads the partition of that device now. */
    owns(deviceId: string): boolean
    noteSite(r: ReadingRecord): Promise<void>
  } = {
    owns: (deviceId) => engines.has(partitionOf(deviceId, partitions)),
    add: (p, e) => void engines.set(p, e),
    remove: (p) => void engines.delete(p),
    checkSilence: (list, t) => each(list, (e, mine) => e.checkSilence(mine, t)) as ReturnType<AlertEngine['checkSilence']>,
    tick: (list, t) => each(list, (e, mine) => e.tick(mine, t)) as ReturnType<AlertEngine['tick']>,
    outlook: (d: EngineDevice, ruleId: string) => of(d.id)?.outlook(d, ruleId) ?? null,
    /** A reading another partition's reader takes that supplies its site's values: every engine here but its own hears of it. */
    noteSite: async (r: ReadingRecord) => {
      for (const [p, e] of engines) if (p !== partitionOf(r.deviceId, partitions)) await e.noteSite(r)
    },
    noteCollection: (deviceId, at) =>
      of(deviceId)?.noteCollection(deviceId, at) ?? (Promise.resolve() as ReturnType<AlertEngine['noteCollection']>),
  }
  return router
}
