import { z } from 'zod'
import type { Db } from './db.ts'

export const QuarantineEntry = z.object({
  id: z.number().int(),
  receivedAt: z.string(),
  deviceId: z.string().nullable(),
  deviceType: z.string().nullable(),
  topic: z.string(),
  code: z.string(),
  reason: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  payload: z.string().describe('raw payload, base64'),
})
export type QuarantineEntry = z.infer<typeof QuarantineEntry>

export type NewQuarantine = Omit<QuarantineEntry, 'id' | 'payload' | 'receivedAt' | 'deviceType'> & {
  payload: Uint8Array
  receivedAt: Date
}

export const QuarantineFilter = z.object({
  deviceId: z.string().optional(),
  type: z.string().optional().describe('device type'),
  code: z.string().optional().describe('reason code, e.g. PAYLOAD_INVALID'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
})
export type QuarantineFilter = z.infer<typeof QuarantineFilter>

export const QuarantineSummary = z.object({
  deviceId: z.string().nullable(),
  code: z.string(),
  count: z.number().int(),
  lastAt: z.string(),
})
export type QuarantineSummary = z.infer<typeof QuarantineSummary>

interface Row {
  id: number
  received_at: string
  device_id: string | null
  device_type: string | null
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
  deviceType: r.device_type,
  topic: r.topic,
  code: r.code,
  reason: r.reason,
  issues: JSON.parse(r.issues),
  payload: r.payload.toString('base64'),
})

export interface QuarantineRepo {
  add(e: NewQuarantine): void
  list(filter?: QuarantineFilter): QuarantineEntry[]
  summary(): QuarantineSummary[]
  update(id: number, e: Pick<QuarantineEntry, 'code' | 'reason' | 'issues'>): void
  remove(id: number): void
  count(): number
  /** Drops entries beyond the count cap and older than the age cap; returns how many went. */
  prune(now?: Date): number
}

const toIso = (s: string) => new Date(s).toISOString()

/** Quarantine keeps at most `maxEntries` rows and none older than `maxAgeMs`, so a noisy device cannot fill the disk. */
export function createQuarantineRepo(db: Db, maxEntries = 100_000, maxAgeMs = 30 * 86_400_000): QuarantineRepo {
  const insert = db.prepare(
    'INSERT INTO quarantine (received_at, device_id, topic, code, reason, issues, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
  )
  const trimCount = db.prepare('DELETE FROM quarantine WHERE id <= (SELECT max(id) FROM quarantine) - ?')
  const trimAge = db.prepare('DELETE FROM quarantine WHERE received_at < ?')
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM quarantine')
  const update = db.prepare('UPDATE quarantine SET code = ?, reason = ?, issues = ? WHERE id = ?')
  const remove = db.prepare('DELETE FROM quarantine WHERE id = ?')
  const summary = db.prepare<[], QuarantineSummary>(
    'SELECT device_id AS deviceId, code, count(*) AS count, max(received_at) AS lastAt FROM quarantine GROUP BY device_id, code ORDER BY count DESC LIMIT 1000',
  )
  let sinceTrim = 0
  const repo: QuarantineRepo = {
    add(e) {
      insert.run(e.receivedAt.toISOString(), e.deviceId, e.topic, e.code, e.reason, JSON.stringify(e.issues), Buffer.from(e.payload))
      if (++sinceTrim >= 1000) {
        sinceTrim = 0
        repo.prune()
      }
    },
    list(f = {}) {
      const where: string[] = []
      const args: (string | number)[] = []
      const and = (sql: string, v: string | number) => {
        where.push(sql)
        args.push(v)
      }
      if (f.deviceId) and('q.device_id = ?', f.deviceId)
      if (f.type) and('d.type = ?', f.type)
      if (f.code) and('q.code = ?', f.code)
      if (f.from) and('q.received_at >= ?', toIso(f.from))
      if (f.to) and('q.received_at <= ?', toIso(f.to))
      args.push(f.limit ?? 100)
      const sql = `SELECT q.*, d.type AS device_type FROM quarantine q LEFT JOIN devices d ON d.id = q.device_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY q.id DESC LIMIT ?`
      return db
        .prepare<(string | number)[], Row>(sql)
        .all(...args)
        .map(toEntry)
    },
    summary: () => summary.all(),
    update(id, e) {
      update.run(e.code, e.reason, JSON.stringify(e.issues), id)
    },
    remove(id) {
      remove.run(id)
    },
    count: () => count.get()!.n,
    prune(now = new Date()) {
      return trimCount.run(maxEntries).changes + trimAge.run(new Date(now.getTime() - maxAgeMs).toISOString()).changes
    },
  }
  return repo
}
