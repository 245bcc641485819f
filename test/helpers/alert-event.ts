/** A critical bin-fire alert's event data as the outbox routes it (AlertEventData), for the notification tests. */
export const criticalAlertData = (alertId: string, over: Record<string, unknown> = {}) => ({
  alertId,
  deviceId: 'bin-9',
  deviceType: 'bin',
  site: 'market',
  ruleId: 'bin-fire',
  title: 'Possible bin fire',
  severity: 'critical',
  status: 'active',
  value: 81,
  at: '2026-12-01T10:00:00.000Z',
  actor: 'system',
  note: null,
  ...over,
})
