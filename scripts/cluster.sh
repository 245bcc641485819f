#!/usr/bin/env bash
# `npm run cluster`: cluster mode (issue 15) on this machine for development: three nats-servers, Redis,
# PostgreSQL, influxd and three service nodes on loopback (scripts/cluster.ts). Neither `npm start` nor the
# single-node service needs any of it. Arguments go to scripts/cluster.ts (`npm run cluster -- --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
# npm dependencies, Debian's influxdb, the dashboard bundle, and cluster mode's engines (nats-server, redis-server, postgresql).
bash scripts/ensure-system.sh --for-cluster

# As scripts/start.sh: npm runs this through `sh -c`, which outlives an npm killed with SIGKILL. Watch npm
# (or whoever ran this script) and stop the cluster, in order, when it is gone.
owner=$PPID
if [ -n "${npm_lifecycle_event:-}" ] && [ -r "/proc/$PPID/stat" ]; then
  owner=$(sed 's/.*) //' "/proc/$PPID/stat" | cut -d' ' -f2)
fi
cluster=$$ # exec keeps the pid
(
  while kill -0 "$owner" 2>/dev/null && kill -0 "$cluster" 2>/dev/null; do sleep 1; done
  kill -TERM "$cluster" 2>/dev/null || true
) </dev/null >/dev/null 2>&1 &
exec node --import tsx scripts/cluster.ts "$@"
