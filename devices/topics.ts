import { SEGMENT } from './ids.ts'

/**
 * Topic grammar (design D4): sp/v1/<site>/<type>/<deviceId>/<channel>.
 * Built and parsed only here so that broker ACLs and ingest agree.
 */
export const CHANNELS = ['telemetry', 'status', 'event', 'cmd'] as const
export type Channel = (typeof CHANNELS)[number]

export const TOPIC_ROOT = 'sp/v1'
export const TOPIC_LEVELS = 6

export interface TopicParts {
  site: string
  type: string
  deviceId: string
  channel: Channel
}

export function buildTopic(p: TopicParts): string {
  return `${TOPIC_ROOT}/${p.site}/${p.type}/${p.deviceId}/${p.channel}`
}

const isChannel = (s: string): s is Channel => (CHANNELS as readonly string[]).includes(s)

/** Parses a concrete topic (no wildcards); null when outside the grammar. */
export function parseTopic(topic: string): TopicParts | null {
  if (topic.length > 256) return null
  const parts = topic.split('/')
  if (parts.length !== TOPIC_LEVELS || parts[0] !== 'sp' || parts[1] !== 'v1') return null
  const [, , site, type, deviceId, channel] = parts as [string, string, string, string, string, string]
  if (!SEGMENT.test(site) || !SEGMENT.test(type) || !SEGMENT.test(deviceId) || !isChannel(channel)) return null
  return { site, type, deviceId, channel }
}
