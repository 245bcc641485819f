/** Phase progress on stderr, so that stdout carries only the report. */
export const progress = (what: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${what}\n`)
