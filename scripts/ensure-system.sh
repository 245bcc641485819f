#!/usr/bin/env bash
# Installs or locates what smartplace needs on Debian/Ubuntu: npm dependencies,
# Debian's influxdb (and chromium for the browser tests). Says exactly what is
# missing when it cannot install it itself.
# Usage: scripts/ensure-system.sh [--for-tests]   (tests also need chromium, PostgreSQL, nats-server and redis-server and, for the benchmark, mosquitto)
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=0
for_cluster=0
[ "${1:-}" = "--for-tests" ] && for_tests=1 && for_cluster=1
# `npm run cluster` (scripts/cluster.sh): cluster mode's engines, without the browser and benchmark tools.
[ "${1:-}" = "--for-cluster" ] && for_cluster=1

node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number);console.log(a>20||(a===20&&b>=19)?1:0)' 2>/dev/null || echo 0)
if [ "$node_ok" != 1 ]; then
  echo "smartplace needs Node.js >= 20.19 (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# npm dependencies: install when missing or when the lockfile changed since the last install.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm dependencies…"
  # npm ci refuses a lockfile whose optional per-platform packages (Biome's) a registry
  # mirror does not serve; npm install honours the same lockfile and skips them.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --no-save --loglevel=error
fi

missing=()
command -v influxd >/dev/null 2>&1 || [ -x /usr/bin/influxd ] || missing+=(influxdb)
if [ "$for_tests" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
  command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)
fi
if [ "$for_cluster" = 1 ]; then
  # The store's contract tests and cluster mode start a private PostgreSQL; Debian keeps initdb off PATH.
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  # Cluster mode's engines (issue 15), for its tests and `npm run cluster`: the single-node service needs neither.
  [ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
  [ -x /usr/bin/redis-server ] || command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
fi

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

# The dashboard bundle is rebuilt when any of its sources is newer than the build.
if [ ! -f dashboards/web/dist/index.html ] || [ -n "$(find dashboards/web devices -newer dashboards/web/dist/index.html -type f -not -path '*/dist/*' | head -1)" ]; then
  npx --no-install vite build --config dashboards/web/vite.config.ts
fi
