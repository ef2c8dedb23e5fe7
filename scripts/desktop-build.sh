#!/usr/bin/env bash
# Builds the desktop app with its UI embedded: system packages (if missing), ui/ (npm), then
# the Tauri binary. Output: $CARGO_TARGET_DIR/debug/switchyard-desktop (default target/).
# Usage: scripts/desktop-build.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/desktop-deps.sh
if [ ! -d ui/node_modules ]; then
  # `npm ci` can refuse the lockfile on machines whose registry lacks other platforms'
  # optional packages (see docs); install is equivalent here.
  npm --prefix ui ci --no-audit --no-fund || npm --prefix ui install --no-audit --no-fund
fi
npm --prefix ui run build

profile_args=()
[ "${1:-}" = "--release" ] && profile_args=(--release)
# custom-protocol embeds ui/dist into the binary instead of loading the Vite dev server.
cargo build -p switchyard-desktop --features tauri/custom-protocol "${profile_args[@]}"
