#!/usr/bin/env bash
# Lint and typecheck every workspace: the same root scripts a laptop runs.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -o pipefail

cd "${ROOT}"
step "lint"
npm run lint
step "typecheck"
npm run typecheck
