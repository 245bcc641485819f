import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../service/config.ts'

const base = { ADMIN_TOKEN: 'a'.repeat(40) }

describe('email configuration (SMTP_URL, EMAIL_FROM, DIGEST_HOUR)', () => {
  it('is off by default, with the digest at seven', () => {
    const r = parseConfig(base)
    expect(r.ok && [r.config.SMTP_URL, r.config.EMAIL_FROM, r.config.DIGEST_HOUR]).toEqual([undefined, undefined, 7])
  })

  it('takes smtp:// and smtps:// URLs with their credentials, and a sender with or without a name', () => {
    const r = parseConfig({
      ...base,
      SMTP_URL: 'smtps://relay%40council:p%40ss@smtp.council.example:465',
      EMAIL_FROM: 'Smartplace <alerts@council.gov.uk>',
      DIGEST_HOUR: '6',
    })
    expect(r.ok && [r.config.SMTP_URL, r.config.EMAIL_FROM, r.config.DIGEST_HOUR]).toEqual([
      'smtps://relay%40council:p%40ss@smtp.council.example:465',
      'Smartplace <alerts@council.gov.uk>',
      6,
    ])
    expect(parseConfig({ ...base, SMTP_URL: 'smtp://smtp.council.example', EMAIL_FROM: 'alerts@council.gov.uk' }).ok).toBe(true)
  })

  it('reports a missing sender beside every other bad variable, and never echoes the URL and its password', () => {
    const r = parseConfig({ ...base, HTTP_PORT: 'eighty', SMTP_URL: 'smtp://relay:hunter2-secret@smtp.council.example' })
    expect(r.ok).toBe(false)
    const errors = r.ok ? [] : r.errors
    expect(errors.map((e) => e.split(':')[0])).toEqual(['HTTP_PORT', 'EMAIL_FROM'])
    const bad = parseConfig({
      ...base,
      SMTP_URL: 'https://relay:hunter2-secret@smtp.council.example',
      EMAIL_FROM: 'x <a@b.example>\r\nBcc: all@b.example',
      DIGEST_HOUR: '24',
    })
    const said = bad.ok ? [] : bad.errors
    expect(said.map((e) => e.split(':')[0])).toEqual(['SMTP_URL', 'EMAIL_FROM', 'DIGEST_HOUR'])
    expect(said.join('\n')).not.toContain('hunter2-secret')
    expect(parseConfig({ ...base, SMTP_URL: 'not a url at all', EMAIL_FROM: 'a@b.example' }).ok).toBe(false)
  })
})
