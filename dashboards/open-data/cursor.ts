// Cursors of the public datasets (devices/open-data/paging.ts has the query they arrive in).

/**
 * A cursor is the sort key of the last row served, opaque to readers (base64url of a JSON array of
 * strings). Keyset paging: rows added or gone elsewhere never shift a page, so a reader walking the
 * pages sees each row at most once.
 */
export const encodeCursor = (key: readonly string[]): string => Buffer.from(JSON.stringify(key)).toString('base64url')

/** The key a cursor holds, or null when it is not one of ours (tampered, truncated, another dataset's). */
export function decodeCursor(cursor: string, parts: number): string[] | null {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (!Array.isArray(key) || key.length !== parts || !key.every((k) => typeof k === 'string' && k.length <= 128)) return null
    return key as string[]
  } catch {
    return null
  }
}
