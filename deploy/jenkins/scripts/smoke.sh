#!/usr/bin/env bash
# The smoke test of the deployed portal through its gateway (npm run smoke:
# packages/pipeline/src/smoke.ts). The agent reaches the gateway's Service
# inside the cluster unless SMOKE_URL names another address.
#
#   SMOKE_URL    default http://gateway.<namespace>.svc.cluster.local
#   SMOKE_WAIT   seconds the stack may take to answer, default 120
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -o pipefail

cd "${ROOT}"
url=${SMOKE_URL:-http://gateway.${NAMESPACE}.svc.cluster.local}
step "smoke test through ${url}"
npm run -s smoke -- --url "${url}" --wait "${SMOKE_WAIT:-120}"
