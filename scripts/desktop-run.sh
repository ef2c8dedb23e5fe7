#!/usr/bin/env bash
# `make run`: installs what is missing, builds the UI and the app, and starts it.
# Extra arguments go to the app. SWITCHYARD_CONFIG / SWITCHYARD_DATA_DIR are honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/desktop-build.sh
target="${CARGO_TARGET_DIR:-target}"
exec "$target/debug/switchyard-desktop" "$@"
