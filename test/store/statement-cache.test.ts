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
