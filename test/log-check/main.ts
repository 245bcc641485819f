import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { findLeaks } from './leaks.ts'

// After the suite: every log the tests' services wrote, searched for every secret the tests made.
const dir = process.argv[2]
if (!dir) {
  process.stderr.write('usage: check-logs <SP_TEST_LOG_DIR>\n')
  process.exit(2)
}
const files = readdirSync(dir)
const secrets = files
  .filter((f) => f.startsWith('secrets-'))
  .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
  .filter(Boolean)
const logs = files.filter((f) => f.endsWith('.log'))
// The suite always starts services as processes (test/helpers/child-service.ts and others, named by childLogFile):
// none captured means their capture broke, and the check would pass over what they logged without reading it.
const childLogs = logs.filter((f) => f.startsWith('child-'))
if (childLogs.length === 0) {
  process.stdout.write(
    `log check: no child-*.log in ${dir}: the service processes the tests start were not captured (test/helpers/log-capture.ts childLogFile)\n`,
  )
  process.exit(1)
}
let lines = 0
let found = 0
for (const f of logs) {
  const text = readFileSync(join(dir, f), 'utf8')
  lines += text.split('\n').length - 1
  for (const leak of findLeaks(text, secrets)) {
    if (found++ < 20) process.stdout.write(`${f}:${leak.line}: ${leak.kind}: ${leak.excerpt}\n`)
  }
}
process.stdout.write(
  `log check: ${lines} lines in ${logs.length} logs (${childLogs.length} of service processes) against ${secrets.length} secrets: ${found} leaks\n`,
)
process.exit(found > 0 || lines === 0 ? 1 : 0)
