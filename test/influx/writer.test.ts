import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { ReadingRecord } from '#devices'
import type { InfluxClient, WriteOutcome } from '../../influx/client.ts'
import { createInfluxWriter } from '../../influx/writer.ts'

const silent = pino({ level: 'silent' })
const reading = (ts: number, type = 'bin'): ReadingRecord => ({
  kind: 'reading',
  deviceId: `bin-${ts}`,
  type,
  site: 's',
  uprn: null,
  ts,
  receivedAt: ts,
  quality: 'good',
  readings: { fillingLevel: 0.5 },
})

describe('InfluxDB writer', () => {
  it('quarantines a refused reading once, even when the batch is retried after an outage', async () => {
    let outage = true
    const client = {
      async write(lines: string[]): Promise<WriteOutcome> {
        if (lines.some((l) => l.includes('bin-3'))) return { kind: 'bad-data', reason: 'field type conflict' }
        // The first attempt at the last quarter fails: InfluxDB went away half-way through the split.
        if (outage && lines.some((l) => l.includes('bin-8'))) {
          outage = false
          return { kind: 'retry', reason: 'ECONNREFUSED' }
        }
        return { kind: 'ok' }
      },
    } as InfluxClient
    const rejected: number[] = []
    const saved: unknown[] = []
    const w = createInfluxWriter({
      client,
      checkpoint: { load: async () => null, save: async (p) => void saved.push(p) },
      log: silent,
      onRejected: async (r) => void rejected.push(r.ts),
      onWritten: () => {},
      onMissingDatabase: async () => {},
    })
    const batch = { records: [1, 2, 3, 4, 5, 6, 7, 8].map((n) => reading(n)), end: { segment: 1, offset: 800 } }
    await expect(w.handle(batch)).rejects.toThrow('ECONNREFUSED')
    expect(saved).toEqual([])
    await w.handle(batch)
    expect(rejected).toEqual([3])
    expect(saved).toEqual([{ segment: 1, offset: 800 }])
  })

  it('a reading it cannot turn into a line is quarantined, not silently dropped', async () => {
    const client = { write: async () => ({ kind: 'ok' }) as WriteOutcome } as unknown as InfluxClient
    const rejected: [number, string][] = []
    const w = createInfluxWriter({
      client,
      checkpoint: { load: async () => null, save: async () => {} },
      log: silent,
      onRejected: async (r, reason) => void rejected.push([r.ts, reason]),
      onWritten: () => {},
      onMissingDatabase: async () => {},
    })
    await w.handle({ records: [reading(1), reading(2, 'toaster')], end: { segment: 1, offset: 10 } })
    expect(rejected).toHaveLength(1)
    expect(rejected[0]![0]).toBe(2)
    expect(rejected[0]![1]).toMatch(/unknown device type toaster/)
  })
  it('notes a batch before it is sent and again once InfluxDB confirmed it, so open data never serves new rows under an old version', async () => {
    const events: string[] = []
    const client = {
      write: async (lines: string[]) => {
        events.push(`write ${lines.length}`)
        return { kind: 'ok' } as WriteOutcome
      },
    } as unknown as InfluxClient
    const w = createInfluxWriter({
      client,
      checkpoint: { load: async () => null, save: async () => {} },
      log: silent,
      onRejected: async () => {},
      onWriting: (records) => void events.push(`writing ${records.map((r) => r.ts).join(',')}`),
      onWritten: (n, records) => void events.push(`written ${n} ${records.map((r) => r.ts).join(',')}`),
      onMissingDatabase: async () => {},
    })
    await w.handle({ records: [reading(1), reading(2)], end: { segment: 1, offset: 10 } })
    expect(events).toEqual(['writing 1,2', 'write 2', 'written 2 1,2'])
  })
})
