#!/usr/bin/env bash
# `npm run bench`: installs what it needs (influxdb, mosquitto for the peer path), then runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh --for-tests
exec node --import tsx test/bench/main.ts "$@"
