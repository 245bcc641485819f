#!/usr/bin/env bash
# `npm test`: type-check, lint, then every test against real parts (influxd, Aedes, Chromium).
# Ends with a plain "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh --for-tests || { echo "0 passed, 1 failed"; exit 1; }

failed_checks=0
echo "== typecheck"; npm run -s typecheck || failed_checks=$((failed_checks + 1))
echo "== lint"; npx --no-install biome check . || failed_checks=$((failed_checks + 1))

echo "== vitest"
rm -f .test-results.json
# Every service the tests start logs here at debug, and the secrets they make are noted beside it:
# one check after the suite proves no secret, password, token, email or client address reached a log.
SP_TEST_LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sp-test-logs.XXXXXX")
export SP_TEST_LOG_DIR
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json=.test-results.json "$@"
status=$?

echo "== logs"
node --import tsx test/log-check/main.ts "$SP_TEST_LOG_DIR" || failed_checks=$((failed_checks + 1))
rm -rf "$SP_TEST_LOG_DIR"

node -e '
  const fs = require("node:fs")
  let passed = 0, failed = Number(process.argv[1])
  try {
    const r = JSON.parse(fs.readFileSync(".test-results.json", "utf8"))
    passed += r.numPassedTests
    // A failed file counts once more only when no test in it failed (an import error, a failing
    // beforeAll): vitest counts every describe block as a suite, which would count one failure thrice.
    const brokenFiles = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length
    failed += r.numFailedTests + brokenFiles + (r.numTotalTests === 0 ? 1 : 0)
  } catch { failed += 1 }
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed > 0 ? 1 : 0)
' "$failed_checks" || exit 1
exit $status
