import { z } from 'zod'
import type { Db } from './db.ts'

export const QuarantineEntry = z.object({
  id: z.number().int(),
  receivedAt: z.string(),
  deviceId: z.string().nullable(),
  topic: z.string(),
  code: z.string(),
  reason: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  payload: z.string().describe('raw payload, base64'),
})
export type QuarantineEntry = z.infer<typeof QuarantineEntry>

export type NewQuarantine = Omit<QuarantineEntry, 'id' | 'payload' | 'receivedAt'> & { payload: Uint8Array; receivedAt: Date }

interface Row {
  id: number
  received_at: string
  device_id: string | null
  topic: string
  code: string
  reason: string
  issues: string
  payload: Buffer
}

const toEntry = (r: Row): QuarantineEntry => ({
  id: r.id,
  receivedAt: r.received_at,
  deviceId: r.device_id,
  topic: r.topic,
  code: r.code,
  reason: r.reason,
  issues: JSON.parse(r.issues),
  payload: r.payload.toString('base64'),
})

export interface QuarantineRepo {
  add(e: NewQuarantine): void
  list(filter?: { deviceId?: string; code?: string; limit?: number }): QuarantineEntry[]
  count(): number
}

/** Quarantine keeps at most `maxEntries` rows; the oldest go first so a noisy device cannot fill the disk. */
export function createQuarantineRepo(db: Db, maxEntries = 100_000): QuarantineRepo {
  const insert = db.prepare(
    'INSERT INTO quarantine (received_at, device_id, topic, code, reason, issues, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
  )
  const trim = db.prepare('DELETE FROM quarantine WHERE id <= (SELECT max(id) FROM quarantine) - ?')
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM quarantine')
  let sinceTrim = 0
  return {
    add(e) {
      insert.run(e.receivedAt.toISOString(), e.deviceId, e.topic, e.code, e.reason, JSON.stringify(e.issues), Buffer.from(e.payload))
      if (++sinceTrim >= 1000) {
        sinceTrim = 0
        trim.run(maxEntries)
      }
    },
    list(f = {}) {
      const where: string[] = []
      const args: (string | number)[] = []
      if (f.deviceId) where.push('device_id = ?') && args.push(f.deviceId)
      if (f.code) where.push('code = ?') && args.push(f.code)
      args.push(Math.min(f.limit ?? 100, 1000))
      const sql = `SELECT * FROM quarantine ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
      return db
        .prepare<(string | number)[], Row>(sql)
        .all(...args)
        .map(toEntry)
    },
    count: () => count.get()!.n,
  }
}
