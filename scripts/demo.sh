#!/usr/bin/env bash
# The README's main command: installs what is missing, starts the local
# sandbox (filer over SSH + rrsync, Jenkins stand-in, conda channel) in the
# background, and deploys the example pipeline to it with the real Pulumi CLI.
#   ./scripts/demo.sh                 deploy slot a and make it live (again: no change)
#   ./scripts/demo.sh deploy          deploy the idle slot (after editing environment.yml)
#   ./scripts/demo.sh switch b        make slot b live (verify, flip the link, re-render prod jobs)
#   ./scripts/demo.sh preview STACK   preview a stack and write its merge-request summary
#   ./scripts/demo.sh destroy         destroy live, b and a
#   ./scripts/demo.sh stop            stop the sandbox (destroy first: a new sandbox has other ports and keys)
#   ./scripts/demo.sh reset           stop the sandbox, remove .sandbox (stacks, images, mounts) and Pulumi.{a,b,live}.yaml
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh" >&2
# shellcheck disable=SC1091
. "${BTD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/backtest-deploy}/env.sh"
cd "$ROOT"
exec node --no-warnings scripts/demo.ts "$@"
