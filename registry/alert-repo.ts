import { randomUUID } from 'node:crypto'
import type { Alert, AlertHistoryEntry, AlertRule } from '#devices'
import type { Db } from './db.ts'

interface Row {
  id: string
  device_id: string
  device_type: string
  site: string
  rule_id: string
  title: string
  severity: Alert['severity']
  status: Alert['status']
  value: number
  raised_ts: number
  acknowledged_at: string | null
  acknowledged_by: string | null
  cleared_at: string | null
}

const toAlert = (r: Row): Alert => ({
  id: r.id,
  deviceId: r.device_id,
  deviceType: r.device_type,
  site: r.site,
  ruleId: r.rule_id,
  title: r.title,
  severity: r.severity,
  status: r.status,
  value: r.value,
  raisedAt: new Date(r.raised_ts).toISOString(),
  acknowledgedAt: r.acknowledged_at,
  acknowledgedBy: r.acknowledged_by,
  clearedAt: r.cleared_at,
})

export interface RaiseInput {
  deviceId: string
  deviceType: string
  site: string
  rule: Pick<AlertRule, 'id' | 'title' | 'severity'>
  value: number
  ts: number
}

export interface AlertFilter {
  status?: Alert['status'] | 'open'
  deviceId?: string
  site?: string
  limit?: number
}

export interface AlertRepo {
  /** Stores a raised alert; null when this (device, rule, reading time) was already raised (a redelivery). */
  raise(input: RaiseInput): Alert | null
  /** Clears the open alert of (device, rule); null when none is open. */
  clear(deviceId: string, ruleId: string, at: number): Alert | null
  acknowledge(id: string, by: string, at: Date): Alert | null | 'not-open'
  get(id: string): Alert | null
  list(filter?: AlertFilter): Alert[]
  open(): Alert[]
  /** Every transition and human action, oldest first. */
  history(filter?: { alertId?: string; deviceId?: string; limit?: number }): AlertHistoryEntry[]
}

export function createAlertRepo(db: Db): AlertRepo {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO alerts (id, device_id, device_type, site, rule_id, title, severity, status, value, raised_ts)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`,
  )
  const byId = db.prepare<[string], Row>('SELECT * FROM alerts WHERE id = ?')
  const openFor = db.prepare<[string, string], Row>(
    "SELECT * FROM alerts WHERE device_id = ? AND rule_id = ? AND status != 'cleared' ORDER BY raised_ts DESC LIMIT 1",
  )
  const setCleared = db.prepare("UPDATE alerts SET status = 'cleared', cleared_at = ? WHERE id = ?")
  const setAck = db.prepare(
    "UPDATE alerts SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND status = 'active'",
  )
  const openAll = db.prepare<[], Row>("SELECT * FROM alerts WHERE status != 'cleared' ORDER BY raised_ts")
  const addHistory = db.prepare(
    'INSERT INTO alert_history (alert_id, device_id, rule_id, action, at, actor, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
  )
  const record = (a: Alert, action: AlertHistoryEntry['action'], at: string, actor: string, value: number | null) =>
    addHistory.run(a.id, a.deviceId, a.ruleId, action, at, actor, value)

  return {
    raise(a) {
      const id = randomUUID()
      const r = insert.run(id, a.deviceId, a.deviceType, a.site, a.rule.id, a.rule.title, a.rule.severity, a.value, a.ts)
      if (!r.changes) return null
      const alert = toAlert(byId.get(id)!)
      record(alert, 'raised', alert.raisedAt, 'system', a.value)
      return alert
    },
    clear(deviceId, ruleId, at) {
      const row = openFor.get(deviceId, ruleId)
      if (!row) return null
      const when = new Date(at).toISOString()
      setCleared.run(when, row.id)
      const alert = toAlert(byId.get(row.id)!)
      record(alert, 'cleared', when, 'system', null)
      return alert
    },
    acknowledge(id, by, at) {
      const row = byId.get(id)
      if (!row) return null
      if (setAck.run(at.toISOString(), by, id).changes === 0) return 'not-open'
      const alert = toAlert(byId.get(id)!)
      record(alert, 'acknowledged', at.toISOString(), by, null)
      return alert
    },
    get: (id) => {
      const row = byId.get(id)
      return row ? toAlert(row) : null
    },
    list(f = {}) {
      const where: string[] = []
      const args: (string | number)[] = []
      if (f.status === 'open') where.push("status != 'cleared'")
      else if (f.status) where.push('status = ?') && args.push(f.status)
      if (f.deviceId) where.push('device_id = ?') && args.push(f.deviceId)
      if (f.site) where.push('site = ?') && args.push(f.site)
      args.push(Math.min(f.limit ?? 100, 1000))
      const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_ts DESC LIMIT ?`
      return db
        .prepare<(string | number)[], Row>(sql)
        .all(...args)
        .map(toAlert)
    },
    open: () => openAll.all().map(toAlert),
    history(f = {}) {
      const where: string[] = []
      const args: (string | number)[] = []
      if (f.alertId) where.push('alert_id = ?') && args.push(f.alertId)
      if (f.deviceId) where.push('device_id = ?') && args.push(f.deviceId)
      args.push(Math.min(f.limit ?? 1000, 10_000))
      const sql = `SELECT alert_id AS alertId, device_id AS deviceId, rule_id AS ruleId, action, at, actor, value
        FROM alert_history ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`
      return db.prepare<(string | number)[], AlertHistoryEntry>(sql).all(...args)
    },
  }
}
