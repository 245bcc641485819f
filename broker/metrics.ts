import { Counter, Gauge, type Registry } from 'prom-client'

export function brokerMetrics(register: Registry) {
  return {
    connections: new Gauge({ name: 'sp_mqtt_connections', help: 'Connected MQTT clients', registers: [register] }),
    throttled: new Counter({
      name: 'sp_mqtt_throttled_total',
      help: 'Publishes delayed because a device exceeded its rate limit',
      registers: [register],
    }),
    authBraked: new Counter({
      name: 'sp_mqtt_auth_braked_total',
      help: 'MQTT CONNECTs slowed by the brake on wrong secrets: delayed, or refused without checking the secret',
      labelNames: ['action'] as const,
      registers: [register],
    }),
    refused: new Counter({
      name: 'sp_mqtt_refused_total',
      help: 'MQTT connections, publishes and subscriptions refused, by reason',
      labelNames: ['reason'] as const,
      registers: [register],
    }),
  }
}
export type BrokerMetrics = ReturnType<typeof brokerMetrics>
