import type { Migration, MigrationProvider } from 'kysely'
import type { Dialect } from '../dialect.ts'
import { registry } from './0001-registry.ts'
import { alertEngine } from './0002-alert-engine.ts'
import { alertLifecycle } from './0003-alert-lifecycle.ts'
import { awaabCases } from './0004-awaab-cases.ts'
import { ruleOverrides } from './0005-rule-overrides.ts'
import { rounds } from './0006-rounds.ts'
import { incidents } from './0007-incidents.ts'
import { people } from './0008-people.ts'
import { roundStops } from './0009-round-stops.ts'
import { openData } from './0010-open-data.ts'
import { tts } from './0011-tts.ts'
import { outbox } from './0012-outbox.ts'
import { open311 } from './0013-open311.ts'
import { notifications } from './0014-notifications.ts'
import { readerFences } from './0015-reader-fences.ts'
import { oneOpenIncident } from './0016-one-open-incident.ts'

/**
 * Listed in code rather than read from the folder, so the list is the same under tsx,
 * after tsc and in a bundle. Names are applied in sorted order and must never change.
 */
export function migrationProvider(d: Dialect): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001-registry': registry(d),
    '0002-alert-engine': alertEngine(d),
    '0003-alert-lifecycle': alertLifecycle(d),
    '0004-awaab-cases': awaabCases(d),
    '0005-rule-overrides': ruleOverrides(d),
    '0006-rounds': rounds(d),
    '0007-incidents': incidents(d),
    '0008-people': people(d),
    '0009-round-stops': roundStops(d),
    '0010-open-data': openData(d),
    '0011-tts': tts(d),
    '0012-outbox': outbox(d),
    '0013-open311': open311(d),
    '0014-notifications': notifications(d),
    '0015-reader-fences': readerFences(d),
    '0016-one-open-incident': oneOpenIncident(),
  }
  return { getMigrations: async () => migrations }
}
