import type SQLite from 'better-sqlite3'

/**
 * Kysely's SQLite driver prepares every query afresh; with better-sqlite3 a prepare costs as much as
 * running a small query (profiled: a third of each outbox update). Kysely sends the same text for the
 * same query shape, so statements are kept by their SQL, the least recently used dropped past `max`.
 * A statement still being iterated (a streamed query) is busy and is never handed out twice.
 * It is also where a transaction's BEGIN becomes BEGIN IMMEDIATE (below, why).
 */
export function withStatementCache(db: SQLite.Database, max = 256) {
  const kept = new Map<string, SQLite.Statement>()
  return {
    close: () => db.close(),
    prepare(text: string): SQLite.Statement {
      // Kysely begins every transaction with a plain BEGIN. With a second connection on the file (the
      // outbox thread), a transaction that reads and then writes fails at once with SQLITE_BUSY when the
      // other has written meanwhile (busy_timeout is not consulted then): IMMEDIATE takes the write
      // lock at the start, and waits for it under busy_timeout instead.
      const sql = text === 'begin' ? 'begin immediate' : text
      const hit = kept.get(sql)
      kept.delete(sql)
      const stmt = hit && !hit.busy ? hit : db.prepare(sql)
      kept.set(sql, stmt)
      if (kept.size > max) kept.delete(kept.keys().next().value!)
      return stmt
    },
    size: () => kept.size,
  }
}
