#!/usr/bin/env bash
# `make run`: installs what is missing, builds the UI and the app, and starts it.
# Extra arguments go to the app. SWITCHYARD_CONFIG / SWITCHYARD_DATA_DIR are honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  # A window needs a display; on a headless machine (ssh, a server) run the same gateway
  # without the GUI rather than fail inside GTK.
  echo "make run: no display (DISPLAY/WAYLAND_DISPLAY unset): starting the headless gateway instead (make serve)" >&2
  scripts/deps.sh build
  cargo build --release -p switchyard-cli
  exec scripts/run.sh
fi
scripts/desktop-build.sh
target="${CARGO_TARGET_DIR:-target}"
exec "$target/debug/switchyard-desktop" "$@"
