import { describe, expect, it } from 'vitest'
import { clusterHealth } from '../../service/readiness.ts'

// Cluster mode's part of /ready, on what each part of the node says of itself.
describe("cluster mode's /ready", () => {
  const stream = { health: '3 of 3 replicas current', refusal: null, connectionStatus: () => 'connected' }
  const readers = { owned: () => [1, 4], liveNodes: () => 3, purgeOff: () => null }
  const health = (outbox: { holding: boolean; refused(): string | null }, since: number | null) =>
    clusterHealth('node-a', stream, readers, 12, outbox, () => since)()

  it('says where the outbox runs, and fails when this node holds it but its fence was refused', async () => {
    expect((await health({ holding: false, refused: () => null }, 1)).outbox).toEqual({ ok: true, detail: 'runs on another node' })
    expect((await health({ holding: true, refused: () => null }, 1)).outbox).toEqual({ ok: true, detail: 'runs on this node' })
    const refused = (await health({ holding: true, refused: () => 'FENCED: outbox is read by a newer owner than epoch 3' }, 1)).outbox
    expect(refused?.ok).toBe(false)
    expect(refused?.detail).toMatch(/^held by this node but sends nothing: FENCED: .*epoch 3/)
  })

  it('says whether the node follows the stream, and since when', async () => {
    expect((await health({ holding: false, refused: () => null }, Date.parse('2026-12-02T12:00:00Z'))).follow).toEqual({
      ok: true,
      detail: 'following the stream since 2026-12-02T12:00:00.000Z',
    })
    expect((await health({ holding: false, refused: () => null }, null)).follow?.detail).toMatch(/^not following the stream now/)
    expect((await health({ holding: false, refused: () => null }, 1)).partitions?.detail).toBe(
      'node node-a reads 2 of 12 partition(s) (p1, p4); 3 node(s) live',
    )
  })
})
