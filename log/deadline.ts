/**
 * Waits for `work`, but not past `deadline` (epoch ms). True when it settled in time; false when
 * the deadline came first (the work goes on, unwaited for). Its timer is cleared either way, so a
 * shutdown that finishes early leaves nothing running to the deadline. A rejection passes through.
 */
export async function settledBy(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))
  })
  try {
    return await Promise.race([work.then(() => true), late])
  } finally {
    clearTimeout(timer)
  }
}
