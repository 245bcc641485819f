import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'

export type Db = Database.Database

// Each entry runs once, in order; the index is the schema version (PRAGMA user_version).
const MIGRATIONS = [
  `CREATE TABLE devices (
     id TEXT PRIMARY KEY,
     type TEXT NOT NULL,
     name TEXT NOT NULL,
     site TEXT NOT NULL,
     latitude REAL,
     longitude REAL,
     uprn TEXT,
     interval_s INTEGER NOT NULL,
     secret_hmac BLOB NOT NULL,
     created_at TEXT NOT NULL,
     revoked_at TEXT,
     presence TEXT NOT NULL DEFAULT 'unknown',
     last_seen TEXT
   );
   CREATE TABLE alerts (
     id TEXT PRIMARY KEY,
     device_id TEXT NOT NULL,
     device_type TEXT NOT NULL,
     site TEXT NOT NULL,
     rule_id TEXT NOT NULL,
     title TEXT NOT NULL,
     severity TEXT NOT NULL,
     status TEXT NOT NULL,
     value REAL NOT NULL,
     raised_ts INTEGER NOT NULL,
     acknowledged_at TEXT,
     acknowledged_by TEXT,
     cleared_at TEXT,
     UNIQUE (device_id, rule_id, raised_ts)
   );
   CREATE INDEX alerts_open ON alerts (status) WHERE status != 'cleared';
   CREATE TABLE quarantine (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     received_at TEXT NOT NULL,
     device_id TEXT,
     topic TEXT NOT NULL,
     code TEXT NOT NULL,
     reason TEXT NOT NULL,
     issues TEXT NOT NULL,
     payload BLOB NOT NULL
   );
   CREATE INDEX quarantine_device ON quarantine (device_id, id);
   CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);`,
  // The spine: every alert transition and human action, rule state by rule id, and the log readers' checkpoints.
  `CREATE TABLE alert_history (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     alert_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     rule_id TEXT NOT NULL,
     action TEXT NOT NULL,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     value REAL
   );
   CREATE INDEX alert_history_alert ON alert_history (alert_id, id);
   CREATE TABLE alert_state (device_id TEXT PRIMARY KEY, state TEXT NOT NULL);
   CREATE TABLE reader_checkpoints (reader TEXT PRIMARY KEY, segment INTEGER NOT NULL, "offset" INTEGER NOT NULL, updated_at TEXT NOT NULL);
   CREATE INDEX devices_revoked ON devices (revoked_at) WHERE revoked_at IS NOT NULL;`,
]

/** Opens (and migrates) the registry database under the data directory. */
export function openDb(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const db = new Database(join(dataDir, 'registry.sqlite'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  const version = db.pragma('user_version', { simple: true }) as number
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!)
      db.pragma(`user_version = ${v + 1}`)
    })()
  }
  return db
}
