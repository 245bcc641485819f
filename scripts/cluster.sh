#!/usr/bin/env bash
# `npm run cluster`: cluster mode (issue 15) on this machine for development: three nats-servers, Redis,
# PostgreSQL, influxd and three service nodes on loopback (scripts/cluster.ts). Neither `npm start` nor the
# single-node service needs any of it. Arguments go to scripts/cluster.ts (`npm run cluster -- --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
# npm dependencies, Debian's influxdb and the dashboard bundle, as for `npm start`.
bash scripts/ensure-system.sh

# Cluster mode's engines: Debian's nats-server (in /usr/sbin), redis-server and postgresql.
missing=()
[ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
[ -x /usr/bin/redis-server ] || command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || $sudo true 2>/dev/null; }; then
    echo "Installing Debian packages: ${missing[*]}…"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${missing[*]}. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

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
