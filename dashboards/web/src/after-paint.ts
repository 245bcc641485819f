/** However the frame goes (a tab in the background paints nothing), the work starts within this. */
const AT_MOST_MS = 500

/**
 * Runs `work` once, in a task of its own after the page has painted what it holds now. A view draws
 * what a person came for first (the crew's rows); what can wait a frame (its live connection, its
 * workers, a second fetch) then no longer holds that first paint back on a slow phone. Returns a cancel.
 */
export function afterPaint(work: () => void): () => void {
  let done = false
  let timer: ReturnType<typeof setTimeout> | null = null
  const cancel = () => {
    done = true
    cancelAnimationFrame(frame)
    if (timer) clearTimeout(timer)
  }
  const run = () => {
    if (done) return
    cancel()
    work()
  }
  const frame = requestAnimationFrame(() => {
    if (timer) clearTimeout(timer)
    timer = setTimeout(run, 0)
  })
  timer = setTimeout(run, AT_MOST_MS)
  return cancel
}
