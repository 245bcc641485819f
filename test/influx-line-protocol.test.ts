import { describe, expect, it } from 'vitest'
import { linePrefix, lineWith } from '../influx/line-protocol.ts'

describe('line protocol', () => {
  it('sorts and escapes tags, writes numbers as floats and booleans as 0/1, quotes strings', () => {
    const prefix = linePrefix('boiler', { site: 'north estate', device_id: 'b-1', uprn: null })
    expect(prefix).toBe('boiler,device_id=b-1,site=north\\ estate')
    expect(lineWith(prefix, { pressureBar: 1.5, flowTemp: 60, burnerOn: true, faultCode: 'E"1\\' }, 1700000000123.7)).toBe(
      'boiler,device_id=b-1,site=north\\ estate pressureBar=1.5,flowTemp=60.0,burnerOn=1.0,faultCode="E\\"1\\\\" 1700000000123',
    )
  })

  it('skips non-finite numbers and gives no line without a field', () => {
    expect(lineWith('bin', { a: Number.NaN, b: 2 }, 1)).toBe('bin b=2.0 1')
    expect(lineWith('bin', { a: Number.POSITIVE_INFINITY }, 1)).toBeNull()
  })
})
