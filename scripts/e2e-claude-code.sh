#!/usr/bin/env bash
# Claude Code itself, through `switchyard serve`: first to the scripted Anthropic-style fake
# (pass-through), then to an OpenAI-style and an Ollama-style fake (tests/e2e/fake_llm.py,
# translated). Each fake
# first answers with a `Write` tool call, then (once the tool_result comes back) with text.
# Checks the file Claude Code wrote, its printed answer, and what reached the upstream.
#
# Needs: cargo, curl, python3, npm (Claude Code is installed once into $SWITCHYARD_CACHE).
# Prints one line per check and `N passed, N failed[, N skipped]`.
set -u
source "$(dirname "$0")/../tests/e2e/lib.sh"
source "$E2E_ROOT/tests/e2e/deps.sh"

CLAUDE_TIMEOUT_S="${CLAUDE_TIMEOUT_S:-180}"
TOKEN="sy-e2e-claude-code-local-token-0123456789"
UPSTREAM_KEY="sk-fake-upstream-e2e-claude-code"
UPSTREAM_MODEL="fake-upstream-model"
CONTENT="Written by Claude Code through Switchyard (e2e)."
FINAL="SWITCHYARD-E2E-FINAL-7319"

# run_claude DIR HOME NAME [BASE_URL]: `claude -p` with the Write task in DIR, in a clean
# environment (nothing of the caller's API keys, proxies or config), against BASE_URL (default
# $GW_URL); output in $E2E_TMP/NAME.{out,err}; returns claude's exit status.
run_claude() {
    (
        cd "$1" &&
            env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$2" TMPDIR="$E2E_TMP" \
                LANG=C.UTF-8 TERM=dumb \
                ANTHROPIC_BASE_URL="${4:-$GW_URL}" ANTHROPIC_AUTH_TOKEN="$TOKEN" \
                CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 \
                timeout -k 10 "$CLAUDE_TIMEOUT_S" "$CLAUDE" -p \
                "Create the file hello.txt in the current directory with a one-line greeting." \
                --model claude-sonnet-4-5 --allowedTools Write --permission-mode acceptEdits \
                </dev/null >"$E2E_TMP/$3.out" 2>"$E2E_TMP/$3.err"
    )
}

echo "== Claude Code end to end"
if ! CLAUDE="$(ensure_claude_code)"; then
    skip "claude code" "cannot install @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION (no npm or no registry access)"
    summary
    exit $?
fi
echo "claude: $CLAUDE ($("$CLAUDE" --version </dev/null 2>/dev/null | head -n 1))"

if ! build_binaries; then
    fail "build switchyard and fake-upstream"
    summary
    exit 1
fi

WORK="$E2E_TMP/work"
FAKE_HOME="$E2E_TMP/home"
mkdir -p "$WORK" "$FAKE_HOME"
TARGET_FILE="$WORK/hello.txt"

start_fake fake --expect-key "$UPSTREAM_KEY" --expect-model "$UPSTREAM_MODEL" \
    --write-path "$TARGET_FILE" --write-content "$CONTENT" --final-text "$FINAL" || {
    fail "start fake-upstream"
    summary
    exit 1
}
write_config "$E2E_TMP/switchyard.toml" "$FAKE_URL" "$UPSTREAM_MODEL" E2E_FAKE_UPSTREAM_KEY
start_gateway gateway "$E2E_TMP/switchyard.toml" \
    SWITCHYARD_TOKEN="$TOKEN" E2E_FAKE_UPSTREAM_KEY="$UPSTREAM_KEY" RUST_LOG=info || {
    fail "start switchyard serve"
    dump_logs
    summary
    exit 1
}
echo "fake upstream: $FAKE_URL, gateway: $GW_URL"

started=$(date +%s)
run_claude "$WORK" "$FAKE_HOME" claude
rc=$?
echo "claude exited $rc after $(($(date +%s) - started)) s"

check "claude -p exits 0" test "$rc" -eq 0
if [ -f "$TARGET_FILE" ] && [ "$(cat "$TARGET_FILE")" = "$CONTENT" ]; then
    pass "the Write tool call wrote the file with the upstream's content"
else
    fail "the Write tool call wrote the file with the upstream's content" \
        "$( [ -f "$TARGET_FILE" ] && head -c 200 "$TARGET_FILE" || echo 'no file')"
fi
check "the final text is printed on stdout" grep -qF "$FINAL" "$E2E_TMP/claude.out"

messages="$(stat_of "$FAKE_URL" messages)"
check "the upstream saw >= 2 /v1/messages requests (got $messages)" test "${messages:-0}" -ge 2
tool_results="$(stat_of "$FAKE_URL" tool_results_seen)"
check "the second request carried the tool_result (got $tool_results)" test "${tool_results:-0}" -ge 1
key_bad="$(stat_of "$FAKE_URL" key_mismatches)"
check "every request reached the upstream with the backend key" test "$key_bad" = 0
model_bad="$(stat_of "$FAKE_URL" model_mismatches)"
check "every request had its model rewritten to $UPSTREAM_MODEL" test "$model_bad" = 0
leaked="$(stat_of "$FAKE_URL" leaked_authorization)"
check "the local token was never forwarded upstream" test "$leaked" = 0
beta="$(stat_of "$FAKE_URL" beta_queries)"
check "the ?beta=true query reached the upstream (got $beta)" test "${beta:-0}" -ge 1
streamed="$(stat_of "$FAKE_URL" streamed)"
check "Claude Code's requests were streamed through the relay (got $streamed)" test "${streamed:-0}" -ge 2

stop_pid "$GW_PID"

# The same task through translating backends: an OpenAI Chat Completions server (vLLM's
# chunking) and Ollama's native API, both the scripted fake in tests/e2e/fake_llm.py.
run_translated() {
    local style="$1" kind="$2"
    local work="$E2E_TMP/work-$style" home="$E2E_TMP/home-$style"
    local rec="$E2E_TMP/requests-$style.jsonl" target rc
    mkdir -p "$work" "$home"
    target="$work/hello.txt"
    echo "== Claude Code through a $kind backend ($style fake)"
    start_translated "$style" "$kind" "$rec" --write-path "$target" \
        --write-content "$CONTENT" --final-text "$FINAL" || {
        fail "start the $style fake and switchyard serve for $kind"
        return
    }
    run_claude "$work" "$home" "claude-$style"
    rc=$?
    check "[$kind] claude -p exits 0 (got $rc)" test "$rc" -eq 0
    if [ -f "$target" ] && [ "$(cat "$target")" = "$CONTENT" ]; then
        pass "[$kind] the translated Write tool call wrote the file"
    else
        fail "[$kind] the translated Write tool call wrote the file" \
            "$([ -f "$target" ] && head -c 200 "$target" || echo 'no file')"
    fi
    check "[$kind] the final text is printed on stdout" grep -qF "$FINAL" "$E2E_TMP/claude-$style.out"
    # What reached the upstream: the tool result in the backend's own shape, and for Ollama a
    # context window that holds the prompt.
    local verdict
    verdict="$(python3 - "$rec" "$kind" "$style" <<'PY'
import json, sys
rec, kind, style = sys.argv[1:4]
reqs = [json.loads(l)["body"] for l in open(rec, encoding="utf-8") if l.strip()]
problems = []
with_result = [r for r in reqs if any(m.get("role") == "tool" for m in r.get("messages", []))]
if not with_result:
    problems.append(f"no upstream request carried a role=tool message ({len(reqs)} requests)")
else:
    msgs = with_result[0]["messages"]
    tool = next(m for m in msgs if m.get("role") == "tool")
    calls = [c for m in msgs if m.get("role") == "assistant" for c in (m.get("tool_calls") or [])]
    if not calls:
        problems.append("the assistant's tool call is missing from the history")
    if kind == "openai_chat":
        ids = [c.get("id") for c in calls]
        if tool.get("tool_call_id") not in ids:
            problems.append(f"tool_call_id {tool.get('tool_call_id')!r} matches none of {ids}")
    else:
        if calls and calls[0].get("function", {}).get("name") != "Write":
            problems.append(f"history call: {calls[0]!r}")
        if tool.get("tool_name") != "Write":
            problems.append(f"the tool message names no tool: {tool!r}"[:300])
if kind == "ollama":
    for r in reqs:
        num_ctx = (r.get("options") or {}).get("num_ctx")
        # A token is at least ~2 bytes of this JSON on average (o200k averages ~4 on English
        # and code), so a window of bytes/2 is a conservative floor for "the prompt fits".
        size = len(json.dumps({k: r.get(k) for k in ("messages", "tools")}, ensure_ascii=False))
        if not num_ctx or num_ctx < size // 2:
            problems.append(f"num_ctx {num_ctx} is below the prompt's size floor {size // 2}")
            break
print("ok" if not problems else "; ".join(problems))
PY
)"
    if [ "$verdict" = ok ]; then
        pass "[$kind] the upstream got the tool result in its own shape"
    else
        fail "[$kind] the upstream got the tool result in its own shape" "$verdict"
    fi
    stop_pid "$GW_PID"
    stop_pid "$FAKE_PID"
}

run_translated vllm openai_chat
run_translated ollama ollama

# Two terminals on two setups at once: each `claude -p` names its profile in its base URL
# (/profiles/<name>) while the active profile points at nothing, and each reaches its own fake.
run_profiles() {
    echo "== Two Claude Code runs at once, each through its own profile's base URL"
    local name dir i seen bad urls=() pids=() runs=() rcs=()
    for name in local cloud; do
        dir="$E2E_TMP/work-$name"
        mkdir -p "$dir" "$E2E_TMP/home-$name"
        start_fake "fake-$name" --expect-model "$name-model" --write-path "$dir/hello.txt" \
            --write-content "$CONTENT" --final-text "$FINAL" || {
            fail "start the $name fake"
            return
        }
        urls+=("$FAKE_URL")
        pids+=("$FAKE_PID")
    done
    cat >"$E2E_TMP/profiles.toml" <<EOF
listen = "127.0.0.1:0"
active_profile = "elsewhere"

[[backends]]
id = "near"
kind = "anthropic"
base_url = "${urls[0]}"

[[backends]]
id = "far"
kind = "anthropic"
base_url = "${urls[1]}"

[[backends]]
id = "nowhere"
kind = "anthropic"
base_url = "http://127.0.0.1:1"

[profiles.local]
default = { backend = "near", model = "local-model" }

[profiles.cloud]
default = { backend = "far", model = "cloud-model" }

[profiles.elsewhere]
default = { backend = "nowhere" }
EOF
    start_gateway gateway-profiles "$E2E_TMP/profiles.toml" SWITCHYARD_TOKEN="$TOKEN" RUST_LOG=info || {
        fail "start switchyard serve with two profiles"
        stop_pid "${pids[0]}"
        stop_pid "${pids[1]}"
        return
    }
    for name in local cloud; do
        run_claude "$E2E_TMP/work-$name" "$E2E_TMP/home-$name" "claude-$name" "$GW_URL/profiles/$name" &
        runs+=("$!")
    done
    for i in "${runs[@]}"; do
        wait "$i"
        rcs+=("$?")
    done
    i=0
    for name in local cloud; do
        check "[$name] claude -p through /profiles/$name exits 0 (got ${rcs[$i]})" test "${rcs[$i]}" -eq 0
        if [ "$(cat "$E2E_TMP/work-$name/hello.txt" 2>/dev/null)" = "$CONTENT" ]; then
            pass "[$name] the Write tool call wrote the file"
        else
            fail "[$name] the Write tool call wrote the file" "no file or other content"
        fi
        seen="$(stat_of "${urls[$i]}" messages)"
        bad="$(stat_of "${urls[$i]}" model_mismatches)"
        check "[$name] its own fake got its requests (${seen:-0}), all as $name-model" \
            test "${seen:-0}" -ge 2 -a "$bad" = 0
        i=$((i + 1))
    done
    stop_pid "$GW_PID"
    stop_pid "${pids[0]}"
    stop_pid "${pids[1]}"
}
run_profiles

if [ "$E2E_FAILED" -gt 0 ]; then
    dump_logs
fi
summary
