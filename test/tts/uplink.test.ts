import { describe, expect, it } from 'vitest'
import { isRepeat, mappingKeyOf, rfc3339Ms, TtsApplicationUp, TtsMappingInput, uplinkLabel } from '#devices'
import { FIXTURES, fixture } from './fixtures.ts'

describe('TTS v3 application-up documents', () => {
  it('reads every recorded document, dropping fields we do not use', () => {
    for (const name of FIXTURES) expect(TtsApplicationUp.safeParse(fixture(name)).success, name).toBe(true)
    const up = TtsApplicationUp.parse(fixture('milesight-em400-mud'))
    expect(up.end_device_ids).toEqual({
      device_id: 'em400-high-st-04',
      application_ids: { application_id: 'croydon-waste' },
      dev_eui: '24E124713C201234',
      join_eui: '24E124C0002A0001',
      dev_addr: '260B1A2F',
    })
    expect(up.uplink_message?.f_cnt).toBe(4127)
    expect(Object.keys(up.uplink_message!)).not.toContain('settings')
  })
  it('reads a missing f_cnt as 0 (protobuf JSON leaves zero fields out)', () => {
    const d = fixture('dragino-ldds75')
    delete d.uplink_message.f_cnt
    expect(TtsApplicationUp.parse(d).uplink_message?.f_cnt).toBe(0)
  })
  it('refuses documents without identifiers or time, and bounds sizes', () => {
    const noIds = fixture('elsys-ers-co2')
    delete noIds.end_device_ids.application_ids
    expect(TtsApplicationUp.safeParse(noIds).success).toBe(false)
    const noTime = fixture('elsys-ers-co2')
    delete noTime.received_at
    expect(TtsApplicationUp.safeParse(noTime).success).toBe(false)
    const wide = fixture('elsys-ers-co2')
    wide.uplink_message.decoded_payload = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, i]))
    expect(TtsApplicationUp.safeParse(wide).success).toBe(false)
    const badId = fixture('elsys-ers-co2')
    badId.end_device_ids.device_id = 'Has Spaces'
    expect(TtsApplicationUp.safeParse(badId).success).toBe(false)
  })
  it('keeps milliseconds of a nanosecond time, whatever its offset', () => {
    expect(rfc3339Ms('2020-02-12T15:15:46.014773143Z')).toBe(Date.parse('2020-02-12T15:15:46.014Z'))
    expect(rfc3339Ms('2020-02-12T15:15:46Z')).toBe(Date.parse('2020-02-12T15:15:46Z'))
    expect(rfc3339Ms('2020-02-12T16:15:46.5+01:00')).toBe(Date.parse('2020-02-12T15:15:46.500Z'))
    expect(rfc3339Ms('yesterday')).toBeNaN()
  })
  it('labels an uplink with what finds it in the TTS console', () => {
    expect(uplinkLabel({ applicationId: 'a1', deviceId: 'd1', devEui: '0004A30B001C0530', fCnt: 7 })).toBe(
      'application a1, device d1, dev_eui 0004A30B001C0530, f_cnt 7',
    )
  })
})

describe('mappings', () => {
  it('are by dev_eui or by application and device id, never both or neither', () => {
    const base = { deviceId: 'bin-1', decoder: 'dragino-ldds75' as const, params: { depthMm: 1000 } }
    expect(TtsMappingInput.safeParse({ ...base, devEui: '0004a30b001c0530' }).data?.devEui).toBe('0004A30B001C0530')
    expect(TtsMappingInput.safeParse({ ...base, applicationId: 'app-1', ttsDeviceId: 'dev-1' }).success).toBe(true)
    expect(TtsMappingInput.safeParse({ ...base, devEui: '0004A30B001C0530', applicationId: 'app-1' }).success).toBe(false)
    expect(TtsMappingInput.safeParse({ ...base, applicationId: 'app-1' }).success).toBe(false)
    expect(TtsMappingInput.safeParse({ ...base, devEui: '0004A30B001C0530', decoder: 'nope' }).success).toBe(false)
    expect(mappingKeyOf({ devEui: '0004a30b001c0530' })).toBe('eui:0004A30B001C0530')
    expect(mappingKeyOf({ applicationId: 'app-1', ttsDeviceId: 'dev-1' })).toBe('dev:app-1:dev-1')
  })
})

describe('repeated uplinks (f_cnt)', () => {
  const T = Date.parse('2026-11-30T08:00:00Z')
  const seen = [{ fCnt: 41, receivedAt: T, session: 'S1' }]
  it('the same uplink delivered again is a repeat', () => {
    expect(isRepeat({ fCnt: 41, receivedAt: T, session: 'S1' }, seen)).toBe(true)
    expect(isRepeat({ fCnt: 41, receivedAt: T, session: null }, seen)).toBe(true)
  })
  it('a confirmed uplink sent again seconds later is a repeat', () => {
    expect(isRepeat({ fCnt: 41, receivedAt: T + 8_000, session: 'S1' }, seen)).toBe(true)
  })
  it('the same counter in a new session (a rejoin) or long after (a reset) is a new reading', () => {
    expect(isRepeat({ fCnt: 41, receivedAt: T + 8_000, session: 'S2' }, seen)).toBe(false)
    expect(isRepeat({ fCnt: 41, receivedAt: T + 11 * 60_000, session: 'S1' }, seen)).toBe(false)
  })
  it('another counter value, higher or lower, is a new reading (a reset, or a late one caught up)', () => {
    expect(isRepeat({ fCnt: 42, receivedAt: T + 1_000, session: 'S1' }, seen)).toBe(false)
    expect(isRepeat({ fCnt: 0, receivedAt: T + 1_000, session: 'S1' }, seen)).toBe(false)
    expect(isRepeat({ fCnt: 40, receivedAt: T - 1_200_000, session: 'S1' }, seen)).toBe(false)
  })
})
