#!/usr/bin/env bash
# Installs exactly what package-lock.json says, from the npm cache on the
# agent's cache volume when it has the tarballs (NPM_CACHE_DIR).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -o pipefail

cd "${ROOT}"
step "node $(node --version), npm $(npm --version)"
step "npm ci (cache: ${NPM_CACHE_DIR:-the default})"
if [ -n "${NPM_CACHE_DIR:-}" ]; then
  npm ci --prefer-offline --no-audit --no-fund --cache "${NPM_CACHE_DIR}"
else
  npm ci --prefer-offline --no-audit --no-fund
fi
