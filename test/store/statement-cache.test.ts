import SQLite from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { withStatementCache } from '../../store/statement-cache.ts'

describe('prepared statements kept by their SQL', () => {
  it('hands the same statement back for the same SQL, a fresh one while it is busy iterating, and drops the least recently used', () => {
    const db = new SQLite(':memory:')
    db.exec('create table t (n integer)')
    db.exec('insert into t values (1), (2), (3)')
    const c = withStatementCache(db, 2)
    const a = c.prepare('select n from t where n > ?')
    expect(c.prepare('select n from t where n > ?')).toBe(a)
    expect(a.all(1)).toEqual([{ n: 2 }, { n: 3 }])

    // A stream in progress: the same SQL asked again must not get the busy statement.
    const it = a.iterate(0)
    it.next()
    const b = c.prepare('select n from t where n > ?')
    expect(b).not.toBe(a)
    expect(b.all(2)).toEqual([{ n: 3 }])
    it.return?.()

    c.prepare('select 1')
    c.prepare('select 2')
    expect(c.size()).toBe(2)
    expect(c.prepare('select n from t where n > ?')).not.toBe(b)
    c.close()
    expect(db.open).toBe(false)
  })

  it('sees a schema changed after a statement was kept', () => {
    const db = new SQLite(':memory:')
    db.exec('create table t (n integer)')
    const c = withStatementCache(db)
    const q = 'select * from t'
    expect(c.prepare(q).all()).toEqual([])
    db.exec('alter table t add column m integer')
    db.exec('insert into t values (1, 2)')
    expect(c.prepare(q).all()).toEqual([{ n: 1, m: 2 }])
    c.close()
  })
})

describe('transactions beside a second connection', () => {
  it('begins immediate, so a read-then-write transaction waits for the other connection instead of failing with SQLITE_BUSY', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'sp-begin-'))
    const file = join(dir, 'db.sqlite')
    const a = new SQLite(file)
    a.pragma('journal_mode = WAL')
    a.pragma('busy_timeout = 2000')
    a.exec('create table t (n integer)')
    const b = new SQLite(file)
    b.pragma('busy_timeout = 2000')
    const c = withStatementCache(a)
    // Plain BEGIN: a reads, b writes and commits, a's write cannot upgrade its stale snapshot.
    const plain = () => {
      a.prepare('begin').run()
      a.prepare('select count(*) from t').get()
      b.exec('insert into t values (1)')
      try {
        a.prepare('insert into t values (2)').run()
        a.prepare('commit').run()
        return 'ok'
      } catch (e) {
        a.prepare('rollback').run()
        return (e as { code?: string }).code
      }
    }
    expect(plain()).toMatch(/^SQLITE_BUSY/)
    // Through the cache (as Kysely sends it): BEGIN IMMEDIATE holds the write lock, so b waits instead.
    c.prepare('begin').run()
    b.pragma('busy_timeout = 0')
    expect(() => b.prepare('insert into t values (3)').run()).toThrow(/locked|busy/i)
    c.prepare('select count(*) from t').get()
    c.prepare('insert into t values (4)').run()
    c.prepare('commit').run()
    expect(a.prepare('select n from t order by rowid').all()).toEqual([{ n: 1 }, { n: 4 }])
    b.close()
    c.close()
    rmSync(dir, { recursive: true, force: true })
  })
})
