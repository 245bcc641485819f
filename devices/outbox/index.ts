export * from './delivery.ts'
export * from './events.ts'
export * from './webhook.ts'
