import type { TestProject } from 'vitest/node'
import { startInfluxd } from '../../scripts/influxd.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string
  }
}

/** One private influxd for the whole run; each test uses its own database. */
export default async function setup(project: TestProject) {
  const influxd = await startInfluxd()
  project.provide('influxUrl', influxd.url)
  return () => influxd.stop()
}
