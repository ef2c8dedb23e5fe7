#!/usr/bin/env bash
# The real OS keychain: gnome-keyring (Secret Service) in a private `dbus-run-session`,
# unlocked without a prompt. Runs the `keychain_real` cargo tests with skipping forbidden,
# then the CLI and the gateway against it: `switchyard token` / `key set` / `key delete`, the
# gateway sending the stored key upstream, and the messages for a missing or locked keychain.
#
# Needs: cargo, curl, python3, dbus-run-session, dbus-send, gnome-keyring-daemon, secret-tool
# (apt-get install -y gnome-keyring dbus-x11 libsecret-tools; installed here when root).
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"

if [ -z "${E2E_KEYCHAIN_SESSION:-}" ]; then
    source "$HERE/../tests/e2e/deps.sh"
    echo "== Real keychain (gnome-keyring in dbus-run-session)"
    if ! ensure_keyring_tools; then
        echo "SKIP  real keychain: gnome-keyring / dbus-run-session not installed and cannot be installed here"
        echo "0 passed, 0 failed, 1 skipped"
        exit 0
    fi
    # Build outside the session so compile time does not count against the session's waits.
    if [ -z "${E2E_NO_BUILD:-}" ]; then
        (cd "$HERE/.." && cargo build -q -p switchyard-cli -p fake-upstream &&
            cargo test -q -p switchyard-core --test keychain_real --no-run 2>/dev/null) || {
            echo "FAIL  build"
            echo "0 passed, 1 failed"
            exit 1
        }
    fi
    # No session bus of the caller's leaks in: the session below is the only one.
    unset DBUS_SESSION_BUS_ADDRESS
    exec dbus-run-session -- env E2E_KEYCHAIN_SESSION=1 E2E_NO_BUILD=1 bash "$0" "$@" \
        2> >(grep -v 'Failed to set fd limit' >&2)
fi

source "$HERE/../tests/e2e/lib.sh"

export XDG_DATA_HOME="$E2E_TMP/data" XDG_RUNTIME_DIR="$E2E_TMP/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
unset SWITCHYARD_TOKEN SWITCHYARD_CONFIG
if ! printf %s e2e-keyring-pass | gnome-keyring-daemon --unlock --components=secrets >"$E2E_TMP/keyring.out" 2>&1; then
    fail "start an unlocked gnome-keyring" "$(head -c 300 "$E2E_TMP/keyring.out")"
    summary
    exit 1
fi
KEYRING_PID="$(bus_owner_pid org.freedesktop.secrets)"
if [ -n "$KEYRING_PID" ]; then
    E2E_PIDS+=("$KEYRING_PID")
fi

# --- KeychainStore itself
(cd "$E2E_ROOT" && SWITCHYARD_REAL_KEYCHAIN=1 timeout -k 5 300 \
    cargo test -q -p switchyard-core --test keychain_real -- --test-threads 2) \
    </dev/null >"$E2E_TMP/cargo.out" 2>&1
rc=$?
count="$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$E2E_TMP/cargo.out" | tail -n 1)"
if [ "$rc" -eq 0 ] && [ "${count:-0}" -ge 1 ] && ! grep -q SKIPPED "$E2E_TMP/cargo.out"; then
    pass "KeychainStore store/read/overwrite/delete against gnome-keyring (cargo test keychain_real: $count tests)"
else
    fail "KeychainStore against gnome-keyring (cargo test keychain_real)" "exit $rc"
    tail -n 30 "$E2E_TMP/cargo.out"
fi

# --- The CLI and the gateway against the keychain
sy() { timeout -k 5 30 "$SWITCHYARD_BIN" "$@"; }
lookup() { timeout 10 secret-tool lookup service switchyard username "$1" 2>/dev/null; }

token1="$(sy token </dev/null 2>"$E2E_TMP/token.err")"
token2="$(sy token </dev/null 2>>"$E2E_TMP/token.err")"
check "switchyard token creates the local token in the keychain and then reuses it" \
    test -n "$token1" -a "$token1" = "$token2"
check "the local token is a Secret Service item other clients can read (secret-tool)" \
    test "$(lookup local-token)" = "$token1"

UPSTREAM_KEY="sk-from-keychain-e2e-$RANDOM$RANDOM"
UPSTREAM_MODEL="fake-keychain-model"
start_fake fake --expect-key "$UPSTREAM_KEY" --expect-model "$UPSTREAM_MODEL" || {
    fail "start fake-upstream"
    summary
    exit 1
}
CONFIG="$E2E_TMP/switchyard.toml"
write_config "$CONFIG" "$FAKE_URL" "$UPSTREAM_MODEL"

printf '%s\n' "$UPSTREAM_KEY" | sy --config "$CONFIG" key set fake >"$E2E_TMP/keyset.out" 2>&1
check "switchyard key set fake reads the key from stdin and stores it (exit 0)" test $? -eq 0
check "the stored key is the Secret Service item backend:fake, newline trimmed" \
    test "$(lookup backend:fake)" = "$UPSTREAM_KEY"

start_gateway gateway "$CONFIG" RUST_LOG=warn || {
    fail "start switchyard serve (token and key from the keychain)"
    dump_logs
    summary
    exit 1
}
status="$(post_messages "$GW_URL" "$token1" "$E2E_TMP/answer1.json")"
check "a request with the keychain's local token is answered (HTTP $status)" test "$status" = 200
check "the gateway sent the keychain's key upstream as x-api-key" \
    test "$(stat_of "$FAKE_URL" key_mismatches)" = 0 -a "$(stat_of "$FAKE_URL" messages)" = 1
stop_pid "$GW_PID"

deleted="$(sy key delete fake </dev/null 2>&1)"
check "switchyard key delete fake deletes it" test "$deleted" = 'deleted the key of backend "fake"'
check "the Secret Service item is gone" test -z "$(lookup backend:fake)"
again="$(sy key delete fake </dev/null 2>&1)"
check "deleting again says there was no key (exit 0)" \
    test "$again" = 'backend "fake" had no key in the keychain'

start_gateway gateway2 "$CONFIG" RUST_LOG=warn || {
    fail "restart switchyard serve"
    summary
    exit 1
}
status="$(post_messages "$GW_URL" "$token1" "$E2E_TMP/answer2.json")"
check "after the delete the upstream gets no key and its 401 is relayed (HTTP $status)" \
    test "$status" = 401 -a "$(stat_of "$FAKE_URL" key_mismatches)" = 1
stop_pid "$GW_PID"

empty_out="$(sy --config "$CONFIG" key set fake </dev/null 2>&1)"
check "key set with nothing on stdin fails and says how to pipe the key" \
    grep -q 'no key on standard input' <<<"$empty_out"

# --- A key pool: named keys are Secret Service items of their own and join the backend's
# `keys` in the config (its comments kept).
printf 'sk-work-key\n' | sy --config "$CONFIG" key set fake --name work >"$E2E_TMP/named.out" 2>&1
check "key set --name work stores the Secret Service item backend:fake:key:work" \
    test "$(lookup backend:fake:key:work)" = "sk-work-key"
check "key set --name work adds it to the backend's keys in the config" \
    grep -qx 'keys = \["work"\]' "$CONFIG"
printf 'sk-home-key' | sy --config "$CONFIG" key set fake --name home >/dev/null 2>&1
listed="$(sy --config "$CONFIG" key list fake </dev/null 2>&1)"
check "key list names both keys of the pool as stored" \
    test "$listed" = "fake: work (keychain, stored), home (keychain, stored)"
sy --config "$CONFIG" key delete fake --name home </dev/null >/dev/null 2>&1
check "key delete --name home removes the item and the name from the config" \
    test -z "$(lookup backend:fake:key:home)" -a "$(grep -c '^keys = \["work"\]' "$CONFIG")" = 1
check "no key reached the config file" bash -c "! grep -q 'sk-work-key\|sk-home-key' '$CONFIG'"
sy --config "$CONFIG" key delete fake --name work </dev/null >/dev/null 2>&1
check "deleting the last named key leaves the backend without a keys list" \
    bash -c "! grep -q '^keys' '$CONFIG' && test -z \"\$(timeout 10 secret-tool lookup service switchyard username backend:fake:key:work)\""

# --- No keychain at all: a bus address that leads nowhere.
NO_BUS="unix:path=$E2E_TMP/no-such-bus"
out="$(DBUS_SESSION_BUS_ADDRESS="$NO_BUS" sy token </dev/null 2>&1)"
rc=$?
check "no keychain: switchyard token exits non-zero and points at SWITCHYARD_TOKEN" \
    test "$rc" -ne 0 -a -n "$(grep -F SWITCHYARD_TOKEN <<<"$out")"
out="$(DBUS_SESSION_BUS_ADDRESS="$NO_BUS" sy serve --config "$CONFIG" --listen 127.0.0.1:0 </dev/null 2>&1)"
rc=$?
check "no keychain and no SWITCHYARD_TOKEN: switchyard serve refuses to start with the same hint" \
    test "$rc" -ne 0 -a "$rc" -ne 124 -a -n "$(grep -F SWITCHYARD_TOKEN <<<"$out")"
out="$(printf k | DBUS_SESSION_BUS_ADDRESS="$NO_BUS" sy key set fake 2>&1)"
rc=$?
check "no keychain: key set exits non-zero and says no keychain is reachable" \
    test "$rc" -ne 0 -a -n "$(grep -F 'no OS keychain is reachable' <<<"$out")"

start_gateway gateway3 "$CONFIG" DBUS_SESSION_BUS_ADDRESS="$NO_BUS" \
    SWITCHYARD_TOKEN=sy-e2e-env-token RUST_LOG=warn || {
    fail "start switchyard serve with SWITCHYARD_TOKEN and no keychain"
    summary
    exit 1
}
mismatches_before="$(stat_of "$FAKE_URL" key_mismatches)"
status="$(post_messages "$GW_URL" sy-e2e-env-token "$E2E_TMP/answer3.json")"
# A backend on this machine is served without a key when no keychain is reachable (most local
# engines need none; failing every request would be worse): this fake wants one, so its 401
# comes back, and the gateway's log says why the key was missing. (A cloud backend gets an
# error naming `api_key_env` instead: a unit test in gateway/keys.rs.)
check "no keychain at request time: a local backend is tried without a key and its 401 relayed (HTTP $status)" \
    test "$status" = 401 -a "$(stat_of "$FAKE_URL" key_mismatches)" -gt "${mismatches_before:-0}"
check "no keychain at request time: the log names the backend and the missing keychain" \
    grep -q 'serving the local backend without a key: no OS keychain is reachable.*backend.*fake' \
    <(sed 's/\x1b\[[0-9;]*m//g' "$E2E_TMP/gateway3.err")
stop_pid "$GW_PID"

# --- A locked keychain: a second private session whose keyring was never unlocked, and no
# prompter to ask.
out="$(env -u DBUS_SESSION_BUS_ADDRESS dbus-run-session -- bash -c '
    export XDG_DATA_HOME="$1/locked-data" XDG_RUNTIME_DIR="$1/locked-run"
    mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
    gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1
    pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null |
        awk "/uint32/ {print \$2}")
    timeout -k 5 30 "$2" token </dev/null 2>&1
    rc=$?
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    echo "exit=$rc"' _ "$E2E_TMP" "$SWITCHYARD_BIN" 2>&1 </dev/null)"
rc="$(sed -n 's/^exit=//p' <<<"$out")"
check "locked keychain: switchyard token exits non-zero and says to unlock it" \
    test "${rc:-0}" -ne 0 -a "${rc:-0}" -ne 124 -a -n "$(grep -F 'keychain is locked' <<<"$out")"

if [ "$E2E_FAILED" -gt 0 ]; then
    dump_logs
fi
summary
