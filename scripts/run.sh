#!/usr/bin/env bash
# `make serve`: the headless gateway on the default config (written on first run to the OS
# config dir, or $SWITCHYARD_CONFIG). `make run` starts the desktop app instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CARGO_TARGET_DIR:-./target}/release/switchyard
echo "Starting the Switchyard gateway. Point Claude Code at it with:"
echo "  eval \"\$($bin env)\""
echo
exec "$bin" serve
