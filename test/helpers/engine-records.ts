import type { ReadingRecord } from '#devices'
import type { AlertEngineStore, RaiseInput } from '../../alerts/engine.ts'

/** A good reading as the log holds it, received at its own time. */
export const readingRecord = (
  deviceId: string,
  type: string,
  site: string,
  ts: number,
  readings: ReadingRecord['readings'],
): ReadingRecord => ({
  kind: 'reading',
  deviceId,
  type,
  site,
  uprn: null,
  ts,
  receivedAt: ts,
  quality: 'good',
  readings,
})

/** The alert engine's store in memory, starting empty: what it raised and the states it committed. */
export function committingStore() {
  const raised: RaiseInput[] = []
  const states = new Map<string, string>()
  const store: AlertEngineStore = {
    loadEngine: async () => ({ checkpoint: null, states: new Map() }),
    open: async () => [],
    raise: async () => null,
    escalate: async () => null,
    commitBatch: async (b) => {
      raised.push(...b.raise)
      for (const [k, v] of b.states) states.set(k, v)
      return []
    },
  }
  return { store, raised, states }
}
