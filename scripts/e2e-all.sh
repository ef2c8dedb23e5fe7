#!/usr/bin/env bash
# Every end-to-end suite in turn (builds the binaries once), then one closing line with the
# totals. Each suite also prints its own `N passed, N failed` line, prefixed here.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE/.."
cargo build -q -p switchyard-cli -p fake-upstream &&
    cargo test -q -p switchyard-core --test keychain_real --no-run 2>/dev/null || {
    echo "e2e: build failed"
    echo "0 passed, 1 failed"
    exit 1
}
passed=0 failed=0 skipped=0
for suite in e2e-claude-code e2e-sdk e2e-keychain; do
    started=$(date +%s)
    E2E_NO_BUILD=1 bash "$HERE/$suite.sh" </dev/null >"${TMPDIR:-/tmp}/$suite.$$.log" 2>&1
    rc=$?
    # Per-test lines and the suite's own total, renamed so only the last line below is the total.
    grep -E '^(PASS|FAIL|SKIP)  |^  skipped:|^claude' "${TMPDIR:-/tmp}/$suite.$$.log"
    line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "${TMPDIR:-/tmp}/$suite.$$.log" | tail -n 1)"
    echo "[$suite] ${line:-no result line} (exit $rc, $(($(date +%s) - started)) s)"
    if [ -z "$line" ] || { [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "${TMPDIR:-/tmp}/$suite.$$.log"; }; then
        failed=$((failed + 1))
        tail -n 40 "${TMPDIR:-/tmp}/$suite.$$.log"
    fi
    if [ -n "$line" ]; then
        p=$(sed 's/^\([0-9]*\) passed.*/\1/' <<<"$line")
        f=$(sed 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/' <<<"$line")
        s=$(sed -n 's/.*, \([0-9]*\) skipped.*/\1/p' <<<"$line")
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
    fi
    if grep -q '^FAIL' "${TMPDIR:-/tmp}/$suite.$$.log"; then
        sed -n '/^----- /,$p' "${TMPDIR:-/tmp}/$suite.$$.log" | head -n 120
    fi
    rm -f "${TMPDIR:-/tmp}/$suite.$$.log"
done
if [ "$skipped" -gt 0 ]; then
    echo "e2e: $passed passed, $failed failed, $skipped skipped"
else
    echo "e2e: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
