#!/usr/bin/env bash
# `npm start`: the whole service with a simulated fleet, on one machine.
# Extra arguments go to service/main.ts (e.g. `npm start -- --bins 50 --speed 600`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh

# npm runs this script through `sh -c`, and that shell outlives an npm killed with SIGKILL, so the
# service would keep running with no owner. Watch npm itself (or whoever ran this script) and stop
# the service when it is gone; the service then stops its influxd, which the kernel kills anyway if
# the service dies first (scripts/influxd.ts).
owner=$PPID
if [ -n "${npm_lifecycle_event:-}" ] && [ -r "/proc/$PPID/stat" ]; then
  owner=$(sed 's/.*) //' "/proc/$PPID/stat" | cut -d' ' -f2)
fi
service=$$ # exec keeps the pid
(
  while kill -0 "$owner" 2>/dev/null && kill -0 "$service" 2>/dev/null; do sleep 1; done
  kill -TERM "$service" 2>/dev/null || true
) </dev/null >/dev/null 2>&1 &
# shellcheck disable=SC2046 # one flag per word, as service/node-flags lists them
exec node $(cat service/node-flags) --import tsx service/main.ts --sim "$@"
