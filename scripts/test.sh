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
rm -f .test-results.json .test-results-solo.json
# Every service the tests start logs here at debug, and the secrets they make are noted beside it:
# one check after the suite proves no secret, password, token, email or client address reached a log.
SP_TEST_LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sp-test-logs.XXXXXX")
export SP_TEST_LOG_DIR
# Two phases (vitest.config.ts says why): the suite two files at a time, then test/solo/ alone.
# A file filter in "$@" may match files of one phase only; the other then runs nothing.
SP_PHASE=main npx --no-install vitest run --passWithNoTests --reporter=default --reporter=json --outputFile.json=.test-results.json "$@"
status=$?
echo "== vitest, alone (test/solo)"
SP_PHASE=solo npx --no-install vitest run --passWithNoTests --reporter=default --reporter=json --outputFile.json=.test-results-solo.json "$@"
solo=$?
[ "$status" -eq 0 ] && status=$solo

echo "== logs"
node --import tsx test/log-check/main.ts "$SP_TEST_LOG_DIR" || failed_checks=$((failed_checks + 1))
rm -rf "$SP_TEST_LOG_DIR"

node -e '
  const fs = require("node:fs")
  let passed = 0, failed = Number(process.argv[1]), total = 0
  for (const file of [".test-results.json", ".test-results-solo.json"]) {
    try {
      const r = JSON.parse(fs.readFileSync(file, "utf8"))
      passed += r.numPassedTests
      total += r.numTotalTests
      // A failed file counts once more only when no test in it failed (an import error, a failing
      // beforeAll): vitest counts every describe block as a suite, which would count one failure thrice.
      const brokenFiles = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length
      failed += r.numFailedTests + brokenFiles
    } catch { failed += 1 }
  }
  if (total === 0) failed += 1
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed > 0 ? 1 : 0)
' "$failed_checks" || exit 1
exit $status
