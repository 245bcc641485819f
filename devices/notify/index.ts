export * from './email.ts'
export * from './push.ts'
