#!/usr/bin/env bash
# The README's test command: installs what is missing (scripts/setup.sh),
# then type-checks, lints and runs the unit, integration and e2e suites.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
# shellcheck disable=SC1091
. "${BTD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/backtest-deploy}/env.sh"
cd "$ROOT"
npm test
