export * from './catalogue.ts'
export * from './datasets.ts'
export * from './formats.ts'
export * from './service-health.ts'
