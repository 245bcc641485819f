#!/usr/bin/env bash
# `npm start`: the whole service with a simulated fleet, on one machine.
# Extra arguments go to service/main.ts (e.g. `npm start -- --bins 50 --speed 600`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh
exec node --import tsx service/main.ts --sim "$@"
