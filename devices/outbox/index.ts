export * from './delivery.ts'
export * from './events.ts'
export * from './open311.ts'
export * from './webhook.ts'
