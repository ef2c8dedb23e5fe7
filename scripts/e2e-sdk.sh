#!/usr/bin/env bash
# The Anthropic Python SDK (create, stream, count_tokens, errors, a stream replayed from the
# response cache) through `switchyard serve` to the fake Anthropic-style upstream
# (pass-through), then (create, stream, parallel tool
# calls, tool results, count_tokens) to OpenAI- and Ollama-style fakes (translated). The SDK lives in a venv under $SWITCHYARD_CACHE, created when absent.
#
# Needs: cargo, curl, python3 with venv and pip (PyPI reachable the first time).
set -u
source "$(dirname "$0")/../tests/e2e/lib.sh"
source "$E2E_ROOT/tests/e2e/deps.sh"

TOKEN="sy-e2e-sdk-local-token-0123456789abcdef"
UPSTREAM_KEY="sk-fake-upstream-e2e-sdk"
UPSTREAM_MODEL="fake-upstream-sdk-model"
TEXT="Hello from the fake upstream, streamed word by word."
WRITE_PATH="/tmp/never-written-by-this-test.txt"
WRITE_CONTENT="line one
line \"two\" with unicode: héllo ✓"

echo "== Anthropic Python SDK end to end"
if ! PY="$(ensure_anthropic_sdk)"; then
    skip "anthropic sdk" "cannot create the venv or install anthropic==$ANTHROPIC_SDK_VERSION"
    summary
    exit $?
fi
if ! build_binaries; then
    fail "build switchyard and fake-upstream"
    summary
    exit 1
fi
start_fake fake --expect-key "$UPSTREAM_KEY" --expect-model "$UPSTREAM_MODEL" --text "$TEXT" \
    --write-path "$WRITE_PATH" --write-content "$WRITE_CONTENT" || {
    fail "start fake-upstream"
    summary
    exit 1
}
write_config "$E2E_TMP/switchyard.toml" "$FAKE_URL" "$UPSTREAM_MODEL" E2E_FAKE_UPSTREAM_KEY
# A second profile with the response cache on (the SDK's stream_replayed_from_the_cache case).
cat >>"$E2E_TMP/switchyard.toml" <<EOF

[profiles.e2e-cached]
default = { backend = "fake", model = "$UPSTREAM_MODEL" }
cache = true

[cache]
enabled = true
EOF
# A data dir of its own: the cache starts empty (and the usage rows stay out of the user's).
start_gateway gateway "$E2E_TMP/switchyard.toml" \
    SWITCHYARD_TOKEN="$TOKEN" E2E_FAKE_UPSTREAM_KEY="$UPSTREAM_KEY" \
    SWITCHYARD_DATA_DIR="$E2E_TMP/data" || {
    fail "start switchyard serve"
    dump_logs
    summary
    exit 1
}

env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$E2E_TMP" LANG=C.UTF-8 \
    E2E_GATEWAY_URL="$GW_URL" E2E_TOKEN="$TOKEN" E2E_TEXT="$TEXT" \
    E2E_WRITE_PATH="$WRITE_PATH" E2E_WRITE_CONTENT="$WRITE_CONTENT" \
    timeout -k 5 120 "$PY" "$E2E_ROOT/tests/e2e/sdk_anthropic.py" </dev/null \
    >"$E2E_TMP/sdk.out" 2>"$E2E_TMP/sdk.err"
rc=$?
# The Python suite's own lines, without its closing line (this script prints the total).
count_suite_lines "$E2E_TMP/sdk.out"
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL  ' "$E2E_TMP/sdk.out"; then
    fail "the SDK script ran to the end" "exit $rc"
fi
check "the upstream key reached the fake on every request" test "$(stat_of "$FAKE_URL" key_mismatches)" = 0
check "the model was rewritten on every request" test "$(stat_of "$FAKE_URL" model_mismatches)" = 0
check "count_tokens was forwarded to the upstream" test "$(stat_of "$FAKE_URL" count_tokens)" -ge 1

stop_pid "$GW_PID"

# The same SDK against translating backends: OpenAI Chat Completions with vLLM's and OpenAI's
# chunking, and Ollama's native API (tests/e2e/fake_llm.py).
FINAL="The weather is noted (e2e)."
run_translated() {
    local style="$1" kind="$2" rc
    echo "== Anthropic Python SDK through a $kind backend ($style chunking)"
    start_translated "$style" "$kind" "$E2E_TMP/requests-$style.jsonl" --final-text "$FINAL" || {
        fail "start the $style fake and switchyard serve for $kind"
        return
    }
    env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$E2E_TMP" LANG=C.UTF-8 \
        E2E_GATEWAY_URL="$GW_URL" E2E_TOKEN="$TOKEN" E2E_FAKE_URL="$FAKE_URL" E2E_STYLE="$style" \
        E2E_FINAL="$FINAL" \
        timeout -k 5 120 "$PY" "$E2E_ROOT/tests/e2e/sdk_translated.py" </dev/null \
        >"$E2E_TMP/sdk-$style.out" 2>"$E2E_TMP/sdk-$style.err"
    rc=$?
    count_suite_lines "$E2E_TMP/sdk-$style.out"
    if [ "$rc" -ne 0 ] && ! grep -q '^FAIL  ' "$E2E_TMP/sdk-$style.out"; then
        fail "[$style] the SDK script ran to the end" "exit $rc"
    fi
    stop_pid "$GW_PID"
    stop_pid "$FAKE_PID"
}
run_translated vllm openai_chat
run_translated openai openai_chat
run_translated ollama ollama

if [ "$E2E_FAILED" -gt 0 ]; then
    dump_logs
fi
summary
