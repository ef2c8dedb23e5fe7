#!/usr/bin/env bash
# `make fuzz`: the property-based fuzz targets (crates/switchyard-core/tests/fuzz.rs) in
# release mode, FUZZ_CASES inputs per target (default 1,000,000; `cargo test` runs 2,000),
# FUZZ_THREADS targets at a time (default: one per CPU), then each target's count and time.
# Extra arguments go to the test binary: `scripts/fuzz.sh sse` runs the targets named *sse*.
# A failing target prints its shrunk input and the script exits non-zero.
# Results also go to target/fuzz-results.txt. Nothing here touches the network.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "fuzz: cargo is missing" >&2; exit 1; }
cases=${FUZZ_CASES:-1000000}
threads=${FUZZ_THREADS:-$(nproc)}
target=${CARGO_TARGET_DIR:-$PWD/target}
out=$target/fuzz-results.txt
mkdir -p "$target"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Build first, so that the time below is the fuzzing alone.
cargo test --release -p switchyard-core --test fuzz --no-run --quiet
start=$SECONDS
set +e
SWITCHYARD_FUZZ_CASES=$cases RUST_BACKTRACE=0 \
  cargo test --release --quiet -p switchyard-core --test fuzz -- --nocapture --test-threads "$threads" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
{
  echo "# make fuzz, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, $threads targets at a time"
  echo "# $cases inputs per target ($(( (cases / 50000) > 2 ? cases / 50000 : 2 )) for near_16_mib_limit), $((SECONDS - start)) s in all"
  # (The test harness's progress dots may start the line.)
  sed -n 's/^.*fuzz target /  /p' "$log"
  if [ "$rc" -eq 0 ]; then echo "fuzz: every target passed"; else echo "fuzz: FAILED (exit $rc): see the shrunk input above"; fi
} > "$out"
echo
echo "================ make fuzz summary ================"
cat "$out"
exit "$rc"
