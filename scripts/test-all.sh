#!/usr/bin/env bash
# `make test`: install what the tests need, run every suite, print a summary a person can read.
# Each suite's own output streams to the console; its counts are read from that output:
# cargo's "test result:" lines, or a closing "N passed, N failed[, N skipped]" line.
# A suite exits 0 (passed), 77 (skipped: it printed "SKIPPED: reason"), anything else (failed).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

scripts/deps.sh test || { echo "make test: installing the test dependencies failed" >&2; exit 1; }
# The desktop crate (and its tests) need WebKitGTK; the GUI suites need Xvfb, a tray host,
# WebKitWebDriver and Chromium.
scripts/desktop-deps.sh --test || { echo "make test: installing the desktop test dependencies failed" >&2; exit 1; }

declare -a names results details
total_pass=0 total_fail=0 total_skip=0

count() { # $1 log -> "passed failed skipped"
  local log="$1.plain" p=0 f=0 s=0
  sed 's/\x1b\[[0-9;]*m//g' "$1" > "$log"   # without colour codes
  local line
  # A suite's own closing line wins: it is its verdict, and may wrap cargo runs of its own.
  line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(sed -E 's/.*\b([0-9]+) passed.*/\1/' <<<"$line")
    f=$(sed -E 's/.*\b([0-9]+) failed.*/\1/' <<<"$line")
    grep -q skipped <<<"$line" && s=$(sed -E 's/.*\b([0-9]+) skipped.*/\1/' <<<"$line")
  elif grep -q '^test result:' "$log"; then
    while read -r a b c; do p=$((p+a)); f=$((f+b)); s=$((s+c)); done < <(
      sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1 \2 \3/p' "$log")
  elif grep -qE '^ +Tests +[0-9]' "$log" || grep -q '^# pass ' "$log"; then
    # Vitest ("Tests  2 failed | 23 passed (25)") and node's test runner ("# pass 10").
    local v
    v=$(grep -E '^ +Tests +[0-9]' "$log" | tail -n 1)
    [[ $v =~ ([0-9]+)\ passed ]] && p=$((p + BASH_REMATCH[1]))
    [[ $v =~ ([0-9]+)\ failed ]] && f=$((f + BASH_REMATCH[1]))
    [[ $v =~ ([0-9]+)\ skipped ]] && s=$((s + BASH_REMATCH[1]))
    p=$((p + $(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1 | grep . || echo 0)))
    f=$((f + $(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1 | grep . || echo 0)))
    s=$((s + $(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$log" | tail -n 1 | grep . || echo 0)))
  fi
  echo "$p $f $s"
}

suite() { # name, command...
  local name=$1; shift
  local log="$logs/$name.log"
  echo
  echo "=== suite: $name ($*)"
  local start=$SECONDS
  ( "$@" ) 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local secs=$((SECONDS - start))
  read -r p f s < <(count "$log")
  local status detail
  if [ "$rc" -eq 77 ]; then
    status=SKIPPED
    detail=$(grep -m1 -o 'SKIPPED: .*' "$log" | cut -c10- || true)
    [ -n "$detail" ] || detail="(no reason printed)"
    total_skip=$((total_skip + (s > 0 ? s : 1)))
  elif [ "$rc" -eq 0 ]; then
    status=passed
    [ "$p" -eq 0 ] && p=1
    detail="$p passed, $s skipped, ${secs}s"
    [ "$f" -gt 0 ] && { status=FAILED; detail="$detail (but $f failed)"; }
  else
    status=FAILED
    [ "$f" -eq 0 ] && f=1
    detail="$p passed, $f failed, exit $rc, ${secs}s"
  fi
  if [ "$status" != SKIPPED ]; then
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + s))
  fi
  names+=("$name"); results+=("$status"); details+=("$detail")
}

optional() { # name, script, args...: a suite whose script may not exist yet
  local name=$1 script=$2; shift 2
  if [ -x "$script" ]; then
    suite "$name" "$script" "$@"
  else
    names+=("$name"); results+=("SKIPPED"); details+=("$script is not in this checkout")
    total_skip=$((total_skip + 1))
  fi
}

lint() { cargo fmt --all -- --check && cargo clippy --workspace --all-targets --quiet -- -D warnings && echo "lint: 1 passed, 0 failed"; }

suite lint lint
suite rust cargo test --workspace --quiet
optional keychain scripts/e2e-keychain.sh
optional claude-code scripts/e2e-claude-code.sh
optional python-sdk scripts/e2e-sdk.sh
optional ui scripts/test-ui.sh
optional desktop scripts/desktop-e2e.sh

echo
echo "================ make test summary ================"
for i in "${!names[@]}"; do
  printf '  %-12s %-8s %s\n' "${names[$i]}" "${results[$i]}" "${details[$i]}"
done
echo "---------------------------------------------------"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ] && ! printf '%s\n' "${results[@]}" | grep -q FAILED
