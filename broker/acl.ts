import { buildTopic, type Device, parseTopic, type TopicParts } from '#devices'

export type PublishDecision = { ok: true; parts: TopicParts } | { ok: false; reason: 'topic-invalid' | 'topic-forbidden' }

/**
 * A device may publish only under its own site/type/id, and never on its `cmd`
 * channel (that is the server's downlink).
 */
export function authorizeDevicePublish(device: Device, topic: string): PublishDecision {
  const parts = parseTopic(topic)
  if (!parts) return { ok: false, reason: 'topic-invalid' }
  if (parts.deviceId !== device.id || parts.site !== device.site || parts.type !== device.type || parts.channel === 'cmd') {
    return { ok: false, reason: 'topic-forbidden' }
  }
  return { ok: true, parts }
}

/** A device may subscribe to exactly one filter: its own command topic. */
export function authorizeDeviceSubscribe(device: Device, filter: string): boolean {
  return filter === buildTopic({ site: device.site, type: device.type, deviceId: device.id, channel: 'cmd' })
}
