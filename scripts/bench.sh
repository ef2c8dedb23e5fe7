#!/usr/bin/env bash
# `make bench`: the gateway's added latency (pass-through and translated) and idle RSS, the
# token estimate's cost, the usage writer's throughput and the GUI's queries over 1M rows; then
# the window's request inspector opening a 90 KB capture (scripts/bench-ui.sh).
# Results print to the console and to target/bench-results.txt; docs/PERFORMANCE.md records
# them by hand with the date, the machine and the commit.
# BENCH_SCALE (default 1) scales the gateway bench's number of requests: 0.1 is a smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
target=${CARGO_TARGET_DIR:-$PWD/target}
out=$target/bench-results.txt
mkdir -p "$target"

cargo build --release -p switchyard-cli
export SWITCHYARD_BIN=$target/release/switchyard
{
  echo "# make bench, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  for bench in gateway tokens_estimate usage; do
    echo
    echo "## cargo bench -p switchyard-core --bench $bench"
    cargo bench --quiet -p switchyard-core --bench "$bench"
  done
  echo
  echo "## scripts/bench-ui.sh (the request inspector, Chromium over the mocked IPC)"
  scripts/bench-ui.sh
} 2>&1 | tee "$out"
echo
echo "bench results: $out"
