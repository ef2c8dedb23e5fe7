# Shared helpers for the end-to-end suites (sourced, bash). They drive the real binaries:
# `switchyard` (crates/switchyard-cli) and `fake-upstream` (crates/fake-upstream).
#
# Every process started with `start_bg` is stopped by PID when the script exits (trap), every
# wait is bounded, every address is 127.0.0.1, and every child gets </dev/null as stdin.
#
# Environment:
#   SWITCHYARD_CACHE   where client installs are cached (default ~/.cache/switchyard-test)
#   CARGO_TARGET_DIR   where the binaries are built (default <repo>/target)
#   E2E_PROFILE        debug (default) or release
#   E2E_NO_BUILD=1     use the binaries as they are instead of running `cargo build`
#   SWITCHYARD_BIN, FAKE_UPSTREAM_BIN   explicit binaries (implies no build of that one)
#   E2E_KEEP=1         keep the temp dir (logs) after the run

set -u

E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${SWITCHYARD_CACHE:=${HOME:-/tmp}/.cache/switchyard-test}"
export SWITCHYARD_CACHE
E2E_PROFILE="${E2E_PROFILE:-debug}"
E2E_TARGET_DIR="${CARGO_TARGET_DIR:-$E2E_ROOT/target}"
SWITCHYARD_BIN="${SWITCHYARD_BIN:-$E2E_TARGET_DIR/$E2E_PROFILE/switchyard}"
FAKE_UPSTREAM_BIN="${FAKE_UPSTREAM_BIN:-$E2E_TARGET_DIR/$E2E_PROFILE/fake-upstream}"
E2E_TMP="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-e2e.XXXXXX")"
E2E_PIDS=()
E2E_PASSED=0
E2E_FAILED=0
E2E_SKIPPED=0
E2E_SKIP_REASONS=()

e2e_cleanup() {
    local pid i
    for pid in "${E2E_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${E2E_PIDS[@]}"; do
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    E2E_PIDS=()
    if [ -n "${E2E_KEEP:-}" ]; then
        echo "logs kept in $E2E_TMP"
    else
        rm -rf "$E2E_TMP"
    fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS  $1"; E2E_PASSED=$((E2E_PASSED + 1)); }
fail() {
    echo "FAIL  $1${2:+: $2}"
    E2E_FAILED=$((E2E_FAILED + 1))
}
skip() {
    echo "SKIP  $1: $2"
    E2E_SKIPPED=$((E2E_SKIPPED + 1))
    E2E_SKIP_REASONS+=("$1: $2")
}
# check NAME COMMAND...: one test line from a command's exit status.
check() {
    local name="$1"
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

# The closing line, then exit non-zero when anything failed.
summary() {
    local line="$E2E_PASSED passed, $E2E_FAILED failed"
    if [ "$E2E_SKIPPED" -gt 0 ]; then
        line="$line, $E2E_SKIPPED skipped"
    fi
    echo "$line"
    local reason
    for reason in "${E2E_SKIP_REASONS[@]}"; do
        echo "  skipped: $reason"
    done
    [ "$E2E_FAILED" -eq 0 ]
}

# Show the logs of this run (on failure).
dump_logs() {
    local f
    for f in "$E2E_TMP"/*.out "$E2E_TMP"/*.err; do
        [ -s "$f" ] || continue
        echo "----- $(basename "$f") (last 40 lines)"
        tail -n 40 "$f"
    done
}

build_binaries() {
    if [ -n "${E2E_NO_BUILD:-}" ]; then
        return 0
    fi
    local flags=(-q -p switchyard-cli -p fake-upstream)
    if [ "$E2E_PROFILE" = release ]; then
        flags+=(--release)
    fi
    (cd "$E2E_ROOT" && cargo build "${flags[@]}") || return 1
    [ -x "$SWITCHYARD_BIN" ] && [ -x "$FAKE_UPSTREAM_BIN" ]
}

# start_bg NAME CMD...: run CMD in the background, output in $E2E_TMP/NAME.{out,err}.
# Sets LAST_PID.
start_bg() {
    local name="$1"
    shift
    "$@" </dev/null >"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err" &
    LAST_PID=$!
    E2E_PIDS+=("$LAST_PID")
}

# wait_listening NAME PID: wait (at most 15 s) for `listening on http://...` in NAME.out and
# print the URL.
wait_listening() {
    local name="$1" pid="$2" i url
    for i in $(seq 1 150); do
        url="$(sed -n 's/^listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$E2E_TMP/$name.out" | head -n 1)"
        if [ -n "$url" ]; then
            echo "$url"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$name did not start listening; stderr:" >&2
    tail -n 20 "$E2E_TMP/$name.err" >&2
    return 1
}

# start_fake NAME [fake-upstream args...]: start a fake upstream, set FAKE_URL and FAKE_PID.
start_fake() {
    local name="$1"
    shift
    start_bg "$name" "$FAKE_UPSTREAM_BIN" --log "$@"
    FAKE_PID=$LAST_PID
    FAKE_URL="$(wait_listening "$name" "$FAKE_PID")"
}

# write_config FILE UPSTREAM_URL MODEL [API_KEY_ENV]: a config whose only profile sends every
# model to the pass-through backend "fake" as MODEL.
write_config() {
    local file="$1" upstream="$2" model="$3" key_env="${4:-}"
    {
        echo 'listen = "127.0.0.1:0"'
        echo 'active_profile = "e2e"'
        echo
        echo '[[backends]]'
        echo 'id = "fake"'
        echo 'kind = "anthropic"'
        echo "base_url = \"$upstream\""
        if [ -n "$key_env" ]; then
            echo "api_key_env = \"$key_env\""
        fi
        echo 'timeout_first_byte_s = 30'
        echo 'timeout_idle_s = 30'
        echo
        echo '[profiles.e2e]'
        echo "default = { backend = \"fake\", model = \"$model\" }"
    } >"$file"
}

# start_gateway NAME CONFIG [env assignments...]: `switchyard serve` on a free loopback port;
# sets GW_URL and GW_PID. Extra VAR=value arguments go into its environment.
start_gateway() {
    local name="$1" config="$2"
    shift 2
    start_bg "$name" env "$@" "$SWITCHYARD_BIN" serve --config "$config" --listen 127.0.0.1:0
    GW_PID=$LAST_PID
    GW_URL="$(wait_listening "$name" "$GW_PID")"
}

# stat_of URL FIELD: one counter of a fake upstream.
stat_of() {
    curl -sf --max-time 5 "$1/__fake/stats" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# stop_pid PID: stop one process started with start_bg (TERM, then KILL after 5 s).
stop_pid() {
    local pid="$1" i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# post_messages URL TOKEN OUTFILE: one small non-streaming request; prints the HTTP status.
post_messages() {
    curl -s --max-time 20 -o "$3" -w '%{http_code}' "$1/v1/messages" \
        -H "authorization: Bearer $2" -H 'anthropic-version: 2023-06-01' \
        -H 'content-type: application/json' \
        -d '{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'
}

# The PID owning a well-known name on the current session bus (e.g. org.freedesktop.secrets).
bus_owner_pid() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID "string:$1" 2>/dev/null |
        awk '/uint32/ {print $2}'
}

# start_translated STYLE KIND RECORD [fake_llm.py args...]: the scripted OpenAI/Ollama fake
# (tests/e2e/fake_llm.py) and `switchyard serve` with one translating backend of KIND
# (openai_chat | ollama) on it as the profile's default. Sets FAKE_URL, FAKE_PID, GW_URL,
# GW_PID; the gateway's local token is $TOKEN.
start_translated() {
    local style="$1" kind="$2" record="$3" base config
    shift 3
    start_bg "fake-$style" python3 "$E2E_ROOT/tests/e2e/fake_llm.py" --style "$style" \
        --record "$record" "$@"
    FAKE_PID=$LAST_PID
    FAKE_URL="$(wait_listening "fake-$style" "$FAKE_PID")" || return 1
    base="$FAKE_URL"
    [ "$kind" = openai_chat ] && base="$FAKE_URL/v1"
    config="$E2E_TMP/switchyard-$style.toml"
    cat >"$config" <<TOML
listen = "127.0.0.1:0"
active_profile = "e2e"

[[backends]]
id = "local"
kind = "$kind"
base_url = "$base"
timeout_first_byte_s = 60
timeout_idle_s = 60

[profiles.e2e]
default = { backend = "local", model = "fake-model" }
TOML
    start_gateway "gateway-$style" "$config" SWITCHYARD_TOKEN="$TOKEN" RUST_LOG=info
}

# count_suite_lines FILE: add a client suite's `PASS  `/`FAIL  ` lines (printed again here)
# to this script's counts.
count_suite_lines() {
    grep -E '^(PASS|FAIL)  ' "$1"
    E2E_PASSED=$((E2E_PASSED + $(grep -c '^PASS  ' "$1")))
    E2E_FAILED=$((E2E_FAILED + $(grep -c '^FAIL  ' "$1")))
}
