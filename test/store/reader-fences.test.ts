import { describe, expect, it } from 'vitest'
import { createAlertStore, type RaiseInput } from '../../store/alert-store.ts'
import { claimFence, FencedError } from '../../store/reader-fences.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = Date.parse('2026-11-30T10:00:00Z')

// Cluster mode (issue 15): a partition's former owner, still running, must not commit after the next owner took over.
describe.each(STORE_ADAPTERS)('reader fences on %s', (_name, open) => {
  const s = freshStore(open, 'sp-fences-')
  const raise = (ts: number): RaiseInput => ({
    deviceId: 'bin-1',
    deviceType: 'bin',
    site: 'leeds',
    rule: { id: 'bin-full', title: 'Bin full', severity: 'warning' },
    value: 0.97,
    ts,
  })

  it('refuses a former owner’s commit once a newer epoch claimed the reader, and lets the owner commit', async () => {
    const alerts = createAlertStore(s.store.db)
    await claimFence(s.store.db, 'alerts@p1', 10)
    const batch = {
      reader: 'alerts@p1',
      checkpoint: { segment: 1, offset: 5 },
      states: [['bin-1', '{"lastTs":1}'] as const],
      raise: [raise(T0)],
      clear: [],
    }
    expect(await alerts.commitBatch({ ...batch, fence: 10 })).toHaveLength(1)

    // Node B takes the partition with a newer lease revision; node A, not knowing yet, commits again.
    await claimFence(s.store.db, 'alerts@p1', 11)
    const late = alerts.commitBatch({ ...batch, raise: [raise(T0 + 60_000)], checkpoint: { segment: 1, offset: 9 }, fence: 10 })
    await expect(late).rejects.toBeInstanceOf(FencedError)
    // Nothing of the refused batch landed: no second alert, the checkpoint where the owner left it.
    expect(await alerts.list()).toHaveLength(1)
    expect((await alerts.loadEngine('alerts@p1')).checkpoint).toEqual({ segment: 1, offset: 5 })

    // An older epoch cannot claim it back; the owner's own commits go through.
    await expect(claimFence(s.store.db, 'alerts@p1', 10)).rejects.toBeInstanceOf(FencedError)
    expect(await alerts.commitBatch({ ...batch, raise: [], checkpoint: { segment: 1, offset: 12 }, fence: 11 })).toEqual([])
    expect((await alerts.loadEngine('alerts@p1')).checkpoint).toEqual({ segment: 1, offset: 12 })
    // One machine (no fence given): unchanged.
    expect(await alerts.commitBatch({ ...batch, reader: 'alerts', raise: [] })).toEqual([])
  })
})
