#!/usr/bin/env bash
# `npm run bench`: installs what it needs (influxdb, mosquitto for the peer path), then runs it.
# Options pass through: npm run bench -- --quick | --rounds N | --baseline <git-ref> | --help
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh --for-tests
exec node --import tsx test/bench/main.ts "$@"
