#!/usr/bin/env bash
# Claude Code itself, through `switchyard serve`: first to the scripted Anthropic-style fake
# (pass-through), then to an OpenAI-style and an Ollama-style fake (tests/e2e/fake_llm.py,
# translated). Each fake
# first answers with a `Write` tool call, then (once the tool_result comes back) with text.
# Checks the file Claude Code wrote, its printed answer, and what reached the upstream. Then two
# profiles at once, a subagent routed to its own backend by an agent rule, a LiteLLM import, the
# request inspector, and Claude on Amazon Bedrock and Google Vertex AI (fake-upstream in its
# bedrock and vertex modes: SigV4 or the service account's token checked, the clouds' framing).
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

# claude_in DIR HOME NAME BASE_URL ARGS...: `claude ARGS...` in DIR, in a clean environment
# (nothing of the caller's API keys, proxies or config), against BASE_URL; output in
# $E2E_TMP/NAME.{out,err}; returns claude's exit status.
claude_in() {
    local dir="$1" home="$2" name="$3" base="$4"
    shift 4
    (
        cd "$dir" &&
            env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$home" TMPDIR="$E2E_TMP" \
                LANG=C.UTF-8 TERM=dumb \
                ANTHROPIC_BASE_URL="$base" ANTHROPIC_AUTH_TOKEN="$TOKEN" \
                CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_AUTOUPDATER=1 \
                timeout -k 10 "$CLAUDE_TIMEOUT_S" "$CLAUDE" "$@" \
                </dev/null >"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err"
    )
}

# run_claude DIR HOME NAME [BASE_URL]: `claude -p` with the Write task in DIR against BASE_URL
# (default $GW_URL), as claude_in.
run_claude() {
    claude_in "$1" "$2" "$3" "${4:-$GW_URL}" -p \
        "Create the file hello.txt in the current directory with a one-line greeting." \
        --model claude-sonnet-4-5 --allowedTools Write --permission-mode acceptEdits
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

# A subagent on another backend than its main loop (issue 18): the main fake answers the first
# turn with a call of Claude Code's subagent tool, a rule `when = { agent = "subagent" }` sends
# the subagent's requests to a second fake, and the usage history keeps them in the main
# loop's session under the subagent's id. Each fake refuses (and counts) the other's requests.
run_subagent() {
    echo "== Claude Code spawns a subagent, which an agent rule sends to its own backend"
    local dir="$E2E_TMP/work-subagent" data="$E2E_TMP/data-subagent" main_url sub_url main_pid
    local sub_pid rc verdict status result name detail
    local main_final="SWITCHYARD-E2E-MAIN-AFTER-SUBAGENT-5561"
    local sub_answer="SWITCHYARD-E2E-SUBAGENT-ANSWER-2290"
    mkdir -p "$dir" "$E2E_TMP/home-subagent" "$data"
    start_fake fake-main-loop --expect-model main-model --expect-agent main \
        --spawn-agent "Reply with your answer word, nothing else." --final-text "$main_final" || {
        fail "start the main loop's fake"
        return
    }
    main_url="$FAKE_URL" main_pid="$FAKE_PID"
    start_fake fake-subagent --expect-model sub-model --expect-agent subagent \
        --text "$sub_answer" --final-text "$sub_answer" || {
        fail "start the subagent's fake"
        stop_pid "$main_pid"
        return
    }
    sub_url="$FAKE_URL" sub_pid="$FAKE_PID"
    cat >"$E2E_TMP/subagent.toml" <<EOF
listen = "127.0.0.1:0"
active_profile = "split"

[[backends]]
id = "main-fake"
kind = "anthropic"
base_url = "$main_url"

[[backends]]
id = "sub-fake"
kind = "anthropic"
base_url = "$sub_url"

[profiles.split]
default = { backend = "main-fake", model = "main-model" }

[[profiles.split.rules]]
when = { agent = "subagent" }
targets = [{ backend = "sub-fake", model = "sub-model" }]
EOF
    # Its own data dir: the usage history checked below holds this run only.
    start_gateway gateway-subagent "$E2E_TMP/subagent.toml" SWITCHYARD_TOKEN="$TOKEN" \
        SWITCHYARD_DATA_DIR="$data" RUST_LOG=info || {
        fail "start switchyard serve with an agent rule"
        stop_pid "$main_pid"
        stop_pid "$sub_pid"
        return
    }
    # The subagent tool needs no --allowedTools or permission mode under -p.
    claude_in "$dir" "$E2E_TMP/home-subagent" claude-subagent "$GW_URL" -p \
        "Ask a subagent for the answer word, then print it." --model claude-sonnet-4-5
    rc=$?
    check "[subagent] claude -p exits 0 (got $rc)" test "$rc" -eq 0
    check "[subagent] the main loop's final text is printed on stdout" \
        grep -qF "$main_final" "$E2E_TMP/claude-subagent.out"
    curl -sf --max-time 5 -o "$E2E_TMP/stats-main-loop.json" "$main_url/__fake/stats"
    curl -sf --max-time 5 -o "$E2E_TMP/stats-subagent.json" "$sub_url/__fake/stats"
    # The history is written in batches: a stopped gateway has flushed it.
    stop_pid "$GW_PID"
    stop_pid "$main_pid"
    stop_pid "$sub_pid"
    SWITCHYARD_DATA_DIR="$data" "$SWITCHYARD_BIN" usage --csv </dev/null \
        >"$E2E_TMP/usage-subagent.csv" 2>"$E2E_TMP/usage-subagent.err"
    SWITCHYARD_DATA_DIR="$data" "$SWITCHYARD_BIN" usage --by session </dev/null \
        >"$E2E_TMP/usage-sessions.txt" 2>>"$E2E_TMP/usage-subagent.err"
    # One `PASS|FAIL <tab> name <tab> detail` line per check.
    verdict="$(python3 - "$E2E_TMP/stats-main-loop.json" "$E2E_TMP/stats-subagent.json" \
        "$E2E_TMP/usage-subagent.csv" "$sub_answer" "$E2E_TMP/usage-sessions.txt" <<'PY'
import csv, json, sys

main_path, sub_path, csv_path, sub_answer, sessions_path = sys.argv[1:6]

def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        return {"unreadable": str(err)}

main, sub = load(main_path), load(sub_path)

def line(ok, name, detail=""):
    detail = " ".join(str(detail).split())
    print(f"{'PASS' if ok else 'FAIL'}\t{name}\t{'' if ok else detail}")

def total(s):
    return s.get("messages", 0) + s.get("count_tokens", 0)

def some(s, *keys):
    return json.dumps({k: s.get(k) for k in keys + ("unreadable",) if k in s})

n = sub.get("messages", 0)
line(n >= 1 and sub.get("subagent_requests") == total(sub) == sub.get("agent_id_headers")
     and sub.get("agent_mismatches") == 0 and sub.get("model_mismatches") == 0
     and sub.get("models") == ["sub-model"],
     f"[subagent] the sub fake got the subagent's requests ({n}), each with "
     "x-claude-code-agent-id, as sub-model",
     some(sub, "messages", "count_tokens", "subagent_requests", "agent_id_headers",
          "agent_mismatches", "model_mismatches", "models"))
line(sub.get("subagent_attributions") == total(sub) >= 1,
     "[subagent] each of them says cc_is_subagent=true in its first system block",
     f"{sub.get('subagent_attributions')} of {total(sub)}")
n = main.get("messages", 0)
line(n >= 2 and main.get("subagent_requests") == 0 and main.get("agent_mismatches") == 0
     and main.get("model_mismatches") == 0 and main.get("models") == ["main-model"]
     and main.get("agent_calls_sent", 0) >= 1,
     f"[subagent] the main fake got the main loop's requests ({n}), none from a subagent, "
     "as main-model",
     some(main, "messages", "agent_calls_sent", "subagent_requests", "agent_mismatches",
          "model_mismatches", "models"))
results = main.get("agent_results", [])
line(any(sub_answer in r for r in results),
     "[subagent] the subagent's answer came back to the main loop as the tool's result",
     json.dumps(results)[:300])
sessions = main.get("session_ids", []) + sub.get("session_ids", [])
line(len(set(sessions)) == 1 and len(main.get("session_ids", [])) == 1
     and main.get("without_session") == 0 and sub.get("without_session") == 0,
     "[subagent] both fakes saw the same single x-claude-code-session-id",
     json.dumps({"main": main.get("session_ids"), "sub": sub.get("session_ids"),
                 "without": [main.get("without_session"), sub.get("without_session")]}))

# The export's headers are named for people ("Session ID", "Agent ID"): compare them
# lowercased, spaces as underscores, so `agent_id` finds "Agent ID".
def norm(h):
    return h.strip().lower().replace(" ", "_")

try:
    with open(csv_path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        rows = [{norm(k): v for k, v in r.items()} for r in reader]
except OSError:
    header, rows = [], []
columns = {norm(h) for h in header}
session_col = "session_id" if "session_id" in columns else None
seen_session = (main.get("session_ids") or [None])[0]
mains = [r for r in rows if r.get("backend") == "main-fake"]
subs = [r for r in rows if r.get("backend") == "sub-fake"]
in_history = {r.get(session_col, "") for r in rows} if session_col else set()
line(bool(mains) and bool(subs) and len(rows) == len(mains) + len(subs)
     and bool(seen_session) and in_history == {seen_session},
     f"[subagent] the usage history holds one session ({len(mains)} main-fake and "
     f"{len(subs)} sub-fake rows)",
     f"session column {session_col!r}, sessions {sorted(in_history)}, seen {seen_session!r}, "
     f"backends {sorted({r.get('backend') for r in rows})}")
def lacking(*names):
    gone = [c for c in names if c not in columns]
    return f"no {' or '.join(gone)} column in the export (it has: {', '.join(header)})" if gone else ""

agent_check = "[subagent] the sub-fake rows carry the subagent's agent id, the main-fake rows none"
if lacking("agent_id", "parent_agent_id"):
    line(False, agent_check, lacking("agent_id", "parent_agent_id"))
else:
    agent_ids = set(sub.get("agent_ids", []))
    parents = set(sub.get("parent_agent_ids", []))
    # A subagent of the main loop has no parent id; a nested one has the parent it was sent.
    bad = [r for r in subs if r["agent_id"] not in agent_ids
           or (r["parent_agent_id"] not in parents if parents else r["parent_agent_id"])]
    bad += [r for r in mains if r["agent_id"] or r["parent_agent_id"]]
    line(bool(subs) and bool(agent_ids) and not bad, agent_check,
         f"ids seen {sorted(agent_ids)}, parents seen {sorted(parents)}; rows: "
         + "; ".join(f"{r['backend']} agent={r['agent_id']!r} parent={r['parent_agent_id']!r}"
                     for r in bad[:4]))
rule_check = "[subagent] the sub-fake rows name the rule that routed them"
if lacking("rule"):
    line(False, rule_check, lacking("rule"))
else:
    line(bool(subs) and all(r["rule"] == "rule 1: * when subagent" for r in subs)
         and all(r["rule"] == "default route" for r in mains), rule_check,
         "; ".join(f"{r['backend']}: {r['rule']!r}" for r in (subs + mains)[:4]))

# `switchyard usage --by session`: the session's line, then its main agent and its subagent.
try:
    with open(sessions_path, encoding="utf-8") as f:
        listing = f.read().splitlines()
except OSError:
    listing = []
at = next((i for i, l in enumerate(listing) if seen_session and seen_session[:36] in l), None)
agent_ids = sorted(sub.get("agent_ids", []))
below = listing[at + 1:at + 3] if at is not None else []
line(at is not None and len(agent_ids) == 1 and len(below) == 2
     and "main agent" in below[0] and agent_ids[0] in below[1],
     "[subagent] usage --by session lists the session with its main agent and its subagent",
     " | ".join(listing[:5]))
PY
)"
    status=$?
    while IFS=$'\t' read -r result name detail; do
        case "$result" in
        PASS) pass "$name" ;;
        FAIL) fail "$name" "$detail" ;;
        esac
    done <<<"$verdict"
    [ "$status" -eq 0 ] && [ -n "$verdict" ] ||
        fail "[subagent] check what reached the fakes and the usage history" \
            "python3 exited $status; $(tail -n 5 "$E2E_TMP/usage-subagent.err")"
}
run_subagent

# A LiteLLM config as the guides write it, imported with `switchyard import litellm`, then
# Claude Code through the imported setup: the rule, the backend (its api_base) and the key's
# environment variable all come from the YAML.
run_litellm() {
    echo "== Claude Code through a config imported from LiteLLM's config.yaml"
    local dir="$E2E_TMP/work-litellm" home="$E2E_TMP/home-litellm" key="sk-fake-litellm-e2e-key"
    local config="$E2E_TMP/litellm.toml" yaml="$E2E_TMP/litellm.yaml" rc seen bad
    mkdir -p "$dir" "$home"
    start_fake fake-litellm --expect-key "$key" --expect-model imported-model \
        --write-path "$dir/hello.txt" --write-content "$CONTENT" --final-text "$FINAL" || {
        fail "start the fake for the imported config"
        return
    }
    printf 'listen = "127.0.0.1:0"\nactive_profile = "litellm"\n\n[profiles.litellm]\n' >"$config"
    cat >"$yaml" <<EOF
model_list:
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: anthropic/imported-model
      api_base: $FAKE_URL
      api_key: os.environ/E2E_LITELLM_KEY
      rpm: 600
  - model_name: claude-haiku-4-5
    litellm_params:
      model: anthropic/imported-model
      api_base: $FAKE_URL
      api_key: os.environ/E2E_LITELLM_KEY
general_settings:
  master_key: sk-1234
EOF
    "$SWITCHYARD_BIN" --config "$config" import litellm "$yaml" --profile litellm \
        </dev/null >"$E2E_TMP/litellm-import.out" 2>&1
    rc=$?
    check "switchyard import litellm exits 0 (got $rc)" test "$rc" -eq 0
    check "the import reports the master_key as not imported" grep -q "master_key" "$E2E_TMP/litellm-import.out"
    check "the imported config holds the key's variable, not a key" grep -q 'api_key_env = "E2E_LITELLM_KEY"' "$config"
    start_gateway gateway-litellm "$config" SWITCHYARD_TOKEN="$TOKEN" E2E_LITELLM_KEY="$key" RUST_LOG=info || {
        fail "start switchyard serve on the imported config"
        stop_pid "$FAKE_PID"
        return
    }
    run_claude "$dir" "$home" claude-litellm
    rc=$?
    check "[litellm] claude -p exits 0 (got $rc)" test "$rc" -eq 0
    check "[litellm] the Write tool call wrote the file" test "$(cat "$dir/hello.txt" 2>/dev/null)" = "$CONTENT"
    seen="$(stat_of "$FAKE_URL" messages)"
    bad="$(( $(stat_of "$FAKE_URL" key_mismatches) + $(stat_of "$FAKE_URL" model_mismatches) ))"
    check "[litellm] the imported backend got the requests (${seen:-0}) with the key from E2E_LITELLM_KEY, as imported-model" \
        test "${seen:-0}" -ge 2 -a "$bad" = 0
    stop_pid "$GW_PID"
    stop_pid "$FAKE_PID"
}
run_litellm

# A profile that captures: Claude Code's requests are kept for the inspector (credentials
# never), exported as JSONL, and one is replayed from the CLI to another backend (by an
# in-process gateway on the same data folder: the serve above listens on a random port).
run_capture() {
    echo "== Claude Code's requests captured, exported and replayed from the CLI"
    local dir="$E2E_TMP/work-capture" home="$E2E_TMP/home-capture" data="$E2E_TMP/data-capture"
    local config="$E2E_TMP/capture.toml" key="sk-fake-capture-canary-key" rc first lines
    local capture_url capture_pid other_url other_pid
    mkdir -p "$dir" "$home" "$data"
    start_fake fake-capture --expect-key "$key" --expect-model captured-model \
        --write-path "$dir/hello.txt" --write-content "$CONTENT" --final-text "$FINAL" || {
        fail "start the captured backend's fake"
        return
    }
    capture_url="$FAKE_URL" capture_pid="$FAKE_PID"
    start_fake fake-replay --expect-model replayed-model --final-text "$FINAL" || {
        fail "start the replay target's fake"
        stop_pid "$capture_pid"
        return
    }
    other_url="$FAKE_URL" other_pid="$FAKE_PID"
    {
        echo 'listen = "127.0.0.1:0"'
        echo 'active_profile = "inspect"'
        echo
        echo '[[backends]]'
        echo 'id = "captured"'
        echo 'kind = "anthropic"'
        echo "base_url = \"$capture_url\""
        echo 'api_key_env = "E2E_CAPTURE_KEY"'
        echo
        echo '[[backends]]'
        echo 'id = "elsewhere"'
        echo 'kind = "anthropic"'
        echo "base_url = \"$other_url\""
        echo 'local = true'
        echo
        echo '[profiles.inspect]'
        echo 'capture = true'
        echo 'default = { backend = "captured", model = "captured-model" }'
    } >"$config"
    start_gateway gateway-capture "$config" SWITCHYARD_TOKEN="$TOKEN" E2E_CAPTURE_KEY="$key" \
        SWITCHYARD_DATA_DIR="$data" RUST_LOG=info || {
        fail "start switchyard serve with capture on"
        stop_pid "$capture_pid"
        stop_pid "$other_pid"
        return
    }
    run_claude "$dir" "$home" claude-capture
    rc=$?
    check "[capture] claude -p exits 0 (got $rc)" test "$rc" -eq 0
    # Captures are written off the request path: a stopped gateway has stored them all.
    stop_pid "$GW_PID"
    SWITCHYARD_DATA_DIR="$data" "$SWITCHYARD_BIN" capture export --since 1h </dev/null \
        >"$E2E_TMP/captures.jsonl" 2>"$E2E_TMP/captures.err"
    rc=$?
    check "[capture] switchyard capture export exits 0 (got $rc)" test "$rc" -eq 0
    lines="$(wc -l <"$E2E_TMP/captures.jsonl")"
    check "[capture] every request the backend got was captured ($lines captures)" \
        test "$lines" -ge "$(stat_of "$capture_url" messages)"
    check "[capture] neither the backend key nor the local token is in the export" \
        bash -c "! grep -qF -e '$key' -e '$TOKEN' '$E2E_TMP/captures.jsonl'"
    check "[capture] the export holds what went upstream (the routed model)" \
        grep -qF 'captured-model' "$E2E_TMP/captures.jsonl"
    first="$(python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    c = json.loads(line)
    if c["attempts"]:
        print(c["id"])
        break
' "$E2E_TMP/captures.jsonl")"
    SWITCHYARD_TOKEN="$TOKEN" SWITCHYARD_DATA_DIR="$data" "$SWITCHYARD_BIN" --config "$config" \
        replay "$first" --to elsewhere:replayed-model --json </dev/null \
        >"$E2E_TMP/replay.json" 2>"$E2E_TMP/replay.err"
    rc=$?
    check "[capture] switchyard replay $first --to elsewhere:replayed-model exits 0 (got $rc)" test "$rc" -eq 0
    check "[capture] the replay reached the other backend as replayed-model" \
        test "$(stat_of "$other_url" messages)" -ge 1 -a "$(stat_of "$other_url" model_mismatches)" = 0
    check "[capture] the report shows both answers (original from captured, replay from elsewhere)" \
        python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["original"]["backend"] == "captured", r["original"]
assert r["replay"]["backend"] == "elsewhere" and r["replay"]["status"] == 200, r["replay"]
' "$E2E_TMP/replay.json"
    stop_pid "$capture_pid"
    stop_pid "$other_pid"
}
run_capture

# Claude on a cloud (issue 21): the same Write task through a `bedrock` and a `vertex`
# backend, each with the credentials its cloud's tools read on a headless machine (the AWS
# variables; GOOGLE_APPLICATION_CREDENTIALS naming a service-account key file), against
# fake-upstream in that cloud's mode. The fake refuses (and counts) a request whose signature
# or token, URL or body a real cloud would refuse; `switchyard check` proves the credentials.
run_cloud() {
    local kind="$1" model="$2"
    local dir="$E2E_TMP/work-$kind" home="$E2E_TMP/home-$kind" config="$E2E_TMP/$kind.toml"
    local rc verdict fake_args=() gw_env=() backend_lines=()
    mkdir -p "$dir" "$home"
    echo "== Claude Code through a $kind backend (fake-upstream --mode $kind)"
    case "$kind" in
    bedrock)
        local key_id="AKIDE2ESWITCHYARD01" secret="e2e/canary+AwsSecret0123456789" token="e2e-canary-session-token"
        fake_args=(--mode bedrock --aws-access-key-id "$key_id" --aws-secret-access-key "$secret"
            --aws-session-token "$token" --aws-region us-east-1)
        gw_env=(AWS_ACCESS_KEY_ID="$key_id" AWS_SECRET_ACCESS_KEY="$secret" AWS_SESSION_TOKEN="$token"
            AWS_BEARER_TOKEN_BEDROCK= AWS_PROFILE= AWS_SHARED_CREDENTIALS_FILE=/dev/null)
        backend_lines=('kind = "bedrock"' 'region = "us-east-1"')
        ;;
    vertex)
        local email="vertex-e2e@switchyard-e2e.iam.gserviceaccount.com"
        fake_args=(--mode vertex --vertex-public-key "$E2E_ROOT/crates/switchyard-core/tests/fixtures/vertex/test-only-key.pub.pem"
            --vertex-client-email "$email" --vertex-project switchyard-e2e --vertex-region us-east5)
        backend_lines=('kind = "vertex"' 'project = "switchyard-e2e"' 'region = "us-east5"')
        ;;
    esac
    start_fake "fake-$kind" "${fake_args[@]}" --expect-model "$model" \
        --write-path "$dir/hello.txt" --write-content "$CONTENT" --final-text "$FINAL" || {
        fail "[$kind] start fake-upstream --mode $kind"
        return
    }
    if [ "$kind" = vertex ]; then
        # The service account's key file, its token_uri the fake's.
        python3 - "$E2E_ROOT/crates/switchyard-core/tests/fixtures/vertex/test-only-key.pem" \
            "$email" "$FAKE_URL/token" >"$E2E_TMP/vertex-sa.json" <<'PY'
import json, sys
key, email, token_uri = sys.argv[1:4]
print(json.dumps({"type": "service_account", "project_id": "switchyard-e2e",
                  "private_key_id": "e2e", "private_key": open(key).read(),
                  "client_email": email, "token_uri": token_uri}))
PY
        chmod 600 "$E2E_TMP/vertex-sa.json"
        gw_env=(GOOGLE_APPLICATION_CREDENTIALS="$E2E_TMP/vertex-sa.json")
    fi
    {
        echo 'listen = "127.0.0.1:0"'
        echo "active_profile = \"$kind\""
        echo
        echo '[[backends]]'
        echo "id = \"$kind\""
        printf '%s\n' "${backend_lines[@]}"
        echo "base_url = \"$FAKE_URL\""
        echo 'timeout_first_byte_s = 30'
        echo
        echo "[profiles.$kind]"
        echo "default = { backend = \"$kind\", model = \"$model\" }"
    } >"$config"
    env "${gw_env[@]}" SWITCHYARD_TOKEN="$TOKEN" "$SWITCHYARD_BIN" --config "$config" check \
        </dev/null >"$E2E_TMP/check-$kind.out" 2>&1
    rc=$?
    check "[$kind] switchyard check proves the credentials (exit $rc)" test "$rc" -eq 0
    start_gateway "gateway-$kind" "$config" "${gw_env[@]}" SWITCHYARD_TOKEN="$TOKEN" RUST_LOG=info || {
        fail "[$kind] start switchyard serve"
        stop_pid "$FAKE_PID"
        return
    }
    run_claude "$dir" "$home" "claude-$kind"
    rc=$?
    check "[$kind] claude -p exits 0 (got $rc)" test "$rc" -eq 0
    check "[$kind] the Write tool call wrote the file" test "$(cat "$dir/hello.txt" 2>/dev/null)" = "$CONTENT"
    check "[$kind] the final text is printed on stdout" grep -qF "$FINAL" "$E2E_TMP/claude-$kind.out"
    curl -sf --max-time 5 -o "$E2E_TMP/stats-$kind.json" "$FAKE_URL/__fake/stats"
    verdict="$(python3 - "$E2E_TMP/stats-$kind.json" "$kind" <<'PY'
import json, sys
path, kind = sys.argv[1:3]
try:
    s = json.load(open(path))
except (OSError, ValueError) as err:
    print(f"FAIL\tthe fake's stats\t{err}")
    sys.exit(0)
def line(ok, name, detail=""):
    print(f"{'PASS' if ok else 'FAIL'}\t[{kind}] {name}\t{'' if ok else detail}")
line(s["messages"] >= 2 and s["tool_results_seen"] >= 1 and s["streamed"] >= 2,
     f"the fake answered the tool loop ({s['messages']} requests, streamed, the tool result came back)",
     json.dumps({k: s[k] for k in ("messages", "streamed", "tool_results_seen")}))
line(s["key_mismatches"] == 0 and s["shape_mismatches"] == 0 and s["model_mismatches"] == 0
     and s["bad_requests"] == 0,
     "every request passed the cloud's checks (credentials, URL, anthropic_version, no model)",
     json.dumps({k: s.get(k) for k in ("key_mismatches", "shape_mismatches", "model_mismatches",
                                       "bad_requests", "last_refusal")}))
if kind == "bedrock":
    want = "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"
    line(want in s["paths"], "the stream went to InvokeModelWithResponseStream, the id encoded",
         json.dumps(s["paths"]))
else:
    line(s["token_exchanges"] >= 1 and s["tokens_refused"] == 0,
         f"the service account's assertion was accepted ({s['token_exchanges']} token exchanges)",
         json.dumps({k: s.get(k) for k in ("token_exchanges", "tokens_refused", "last_refusal")}))
    line(any(p.endswith(":streamRawPredict") for p in s["paths"]), "the stream went to streamRawPredict",
         json.dumps(s["paths"]))
PY
)"
    while IFS=$'\t' read -r result name detail; do
        case "$result" in
        PASS) pass "$name" ;;
        FAIL) fail "$name" "$detail" ;;
        esac
    done <<<"$verdict"
    stop_pid "$GW_PID"
    stop_pid "$FAKE_PID"
    # The credentials reached the fake, and never the gateway's log.
    case "$kind" in
    bedrock) check "[$kind] the AWS secret is not in the gateway's log" \
        bash -c "! grep -qF -e '$secret' -e '$token' '$E2E_TMP/gateway-$kind.out' '$E2E_TMP/gateway-$kind.err'" ;;
    vertex) check "[$kind] the private key and the access token are not in the gateway's log" \
        bash -c "! grep -qF -e 'ya29.fake-upstream' -e \"\$(sed -n 6p '$E2E_ROOT/crates/switchyard-core/tests/fixtures/vertex/test-only-key.pem')\" '$E2E_TMP/gateway-$kind.out' '$E2E_TMP/gateway-$kind.err'" ;;
    esac
}
run_cloud bedrock "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
run_cloud vertex "claude-sonnet-4-5@20250929"

if [ "$E2E_FAILED" -gt 0 ]; then
    dump_logs
fi
summary
