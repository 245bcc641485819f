import type { TestProject } from 'vitest/node'
import { startPostgres } from '../../scripts/postgres.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string
  }
}

/** One private PostgreSQL for the whole run; each test makes its own database (createDatabase in scripts/postgres.ts). */
export default async function setup(project: TestProject) {
  const postgres = await startPostgres()
  project.provide('postgresUrl', postgres.url)
  return () => postgres.stop()
}
