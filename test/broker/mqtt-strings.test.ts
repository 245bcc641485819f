import { describe, expect, it } from 'vitest'
import { stringFault, unacceptableString } from '../../broker/mqtt-strings.ts'

describe('strings the broker refuses (MQTT 3.1.1 section 1.5.3)', () => {
  it('accepts ordinary text, including characters outside the BMP', () => {
    for (const s of ['sp/v1/site/bin/bin-1/telemetry', 'Straße/Ørsted/東京', 'emoji/\u{1F600}', 'last/\u{10FFFD}', 'a\u00a0b'])
      expect(unacceptableString(s), s).toBe(false)
  })

  it('refuses NUL, ill-formed UTF-8 (decoded as U+FFFD), control characters and non-characters', () => {
    const refused = {
      nul: 'a\u0000',
      'malformed-utf8': Buffer.from([0x61, 0xc3, 0x28]).toString('utf8'),
      'control-character': [
        '\u0001',
        '\u001f',
        '\u007f',
        '\u0085',
        '\u009f',
        '\ufdd0',
        '\ufdef',
        '\ufffe',
        '\uffff',
        '\u{1FFFE}',
        '\u{10FFFF}',
      ],
    }
    expect(stringFault(refused.nul)).toBe('nul')
    expect(unacceptableString(refused.nul)).toBe(true)
    expect(stringFault(refused['malformed-utf8'])).toBe('malformed-utf8')
    for (const c of refused['control-character']) {
      expect(unacceptableString(`x/${c}/y`), c.codePointAt(0)!.toString(16)).toBe(true)
      expect(stringFault(`x/${c}/y`)).toBe('control-character')
    }
  })
})
