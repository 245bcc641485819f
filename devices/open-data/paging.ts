import { z } from 'zod'

/** The most rows one page may ask for; a whole dataset streams when no `limit` is given. */
export const MAX_PAGE_SIZE = 5_000
/** The longest window one request may ask of a history dataset: a council's financial year and a bit. */
export const MAX_WINDOW_DAYS = 400

/** Checked by the route, which answers a date that is no date with BAD_WINDOW and says why. */
const IsoDate = z.string().max(32)

/** What every public dataset route accepts; history datasets read `from`/`to`, snapshots refuse them. */
export const OpenDataQuery = z.object({
  limit: z.coerce
    .number()
    .int('a whole number of rows')
    .min(1)
    .optional()
    .describe(`rows per page, at most ${MAX_PAGE_SIZE}; without it the whole dataset streams`),
  cursor: z.string().max(512).optional().describe('where the next page starts: the `cursor` of the previous page’s Link rel="next"'),
  from: IsoDate.optional().describe('history datasets: the first day (London), inclusive'),
  to: IsoDate.optional().describe('history datasets: the day after the last (London), exclusive; default tomorrow'),
})
export type OpenDataQuery = z.infer<typeof OpenDataQuery>

/** Compares two sort keys part by part (code-unit order, as the rows are sorted). */
export function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}
