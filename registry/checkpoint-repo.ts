import type { Db } from './db.ts'

export interface Position {
  segment: number
  offset: number
}

/** Log readers whose effects live in this database keep their checkpoint here, in the same transaction. */
export function createCheckpointRepo(db: Db) {
  const get = db.prepare<[string], Position>('SELECT segment, "offset" AS offset FROM reader_checkpoints WHERE reader = ?')
  const set = db.prepare(
    `INSERT INTO reader_checkpoints (reader, segment, "offset", updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (reader) DO UPDATE SET segment = excluded.segment, "offset" = excluded."offset", updated_at = excluded.updated_at`,
  )
  return {
    get: (reader: string): Position | null => get.get(reader) ?? null,
    set(reader: string, p: Position) {
      set.run(reader, p.segment, p.offset, new Date().toISOString())
    },
  }
}
export type CheckpointRepo = ReturnType<typeof createCheckpointRepo>

/** Rule state per device (keyed by rule id inside), saved with the alert engine's checkpoint. */
export function createAlertStateRepo(db: Db) {
  const all = db.prepare<[], { device_id: string; state: string }>('SELECT device_id, state FROM alert_state')
  const put = db.prepare(
    'INSERT INTO alert_state (device_id, state) VALUES (?, ?) ON CONFLICT (device_id) DO UPDATE SET state = excluded.state',
  )
  return {
    all: () => all.all().map((r) => [r.device_id, JSON.parse(r.state) as unknown] as const),
    put(deviceId: string, state: unknown) {
      put.run(deviceId, JSON.stringify(state))
    },
  }
}
export type AlertStateRepo = ReturnType<typeof createAlertStateRepo>
