import { describe, expect, it } from 'vitest'
import { settledBy } from '../../log/deadline.ts'

describe('settledBy: a shutdown step waited for, but not past its deadline', () => {
  it('says true when the work settles in time, and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const before = timers()
    const from = Date.now()
    expect(await settledBy(Promise.resolve('x'), Date.now() + 60_000)).toBe(true)
    expect(Date.now() - from).toBeLessThan(1_000)
    // Its 60 s timer is cleared, not left running to the deadline.
    expect(timers()).toBe(before)
  })

  it('says false at the deadline while the work goes on, and at once for a deadline already past', async () => {
    const never = new Promise(() => {})
    const from = Date.now()
    expect(await settledBy(never, Date.now() + 150)).toBe(false)
    expect(Date.now() - from).toBeGreaterThanOrEqual(140)
    expect(await settledBy(never, Date.now() - 1_000)).toBe(false)
  })

  it('passes a rejection through', async () => {
    await expect(settledBy(Promise.reject(new Error('flush failed')), Date.now() + 1_000)).rejects.toThrow('flush failed')
  })
})
