export * from './people.ts'
export * from './roles.ts'
export * from './scope.ts'
export * from './views.ts'
