#!/usr/bin/env bash
# Start Switchyard. Until the desktop app is built this is the headless gateway on the default
# config (written on first run to the OS config dir, or $SWITCHYARD_CONFIG).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./target/release/switchyard
echo "Starting the Switchyard gateway. Point Claude Code at it with:"
echo "  eval \"\$($bin env)\""
echo
exec "$bin" serve
