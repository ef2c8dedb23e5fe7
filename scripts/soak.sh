#!/usr/bin/env bash
# `make soak` (not part of `make test`): the release `switchyard serve` under SOAK_CLIENTS
# (256) streaming clients for SOAK_SECS (60 s), then SOAK_FAIL_SECS (default SOAK_SECS / 2)
# with the upstream dying mid-stream for a third of the requests; then SIGTERM and a check of
# the usage history. The load generator is crates/switchyard-cli/examples/soak.rs (it runs
# the fake upstream in its own process); see there for what is checked.
# `SOAK_SECS=5 make soak` is a quick try. Results also go to target/soak-results.txt.
# Only loopback is used.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "soak: cargo is missing" >&2; exit 1; }
target=${CARGO_TARGET_DIR:-$PWD/target}
mkdir -p "$target"

cargo build --release --quiet -p switchyard-cli --bin switchyard --example soak
# The clients, the fake upstream and their pooled connections live in one process: more than
# the usual soft limit of 1024 open files at 256 clients.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
export SWITCHYARD_BIN=$target/release/switchyard
{
  echo "# make soak, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$target/release/examples/soak"
} 2>&1 | tee "$target/soak-results.txt"
