#!/usr/bin/env bash
# Real-webview end-to-end tests of the desktop app: builds it, then runs tests/desktop/test_e2e.py
# and tests/desktop/test_first_run.py under Xvfb with a tray host (trayer), each inside its own
# dbus-run-session with an unlocked gnome-keyring and its own temporary HOME. Fails if either
# fails. Screenshots and the app logs land in tests/artifacts/desktop/.
# Tools (tauri-driver, a Python venv with selenium) are cached outside the checkout in
# $SY_TOOLS_DIR (default ~/.cache/switchyard-e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

scripts/desktop-deps.sh --test
tools="${SY_TOOLS_DIR:-$HOME/.cache/switchyard-e2e}"
mkdir -p "$tools"
if [ ! -x "$tools/bin/tauri-driver" ]; then
  cargo install tauri-driver --version '^2' --locked --root "$tools"
fi
if [ ! -x "$tools/venv/bin/python" ] || ! "$tools/venv/bin/python" -c 'import selenium' 2>/dev/null; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install -q selenium
fi
scripts/desktop-build.sh
app="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/switchyard-desktop"

tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# A display number nobody uses.
disp=99
while [ -e "/tmp/.X11-unix/X$disp" ] || [ -e "/tmp/.X$disp-lock" ]; do disp=$((disp + 1)); done
Xvfb ":$disp" -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$disp" ] && break; sleep 0.1; done
export DISPLAY=":$disp"
trayer --edge bottom --align right --widthtype pixel --width 120 --height 32 \
  --transparent false --tint 0x334155 >"$tmp/trayer.log" 2>&1 &
pids+=($!)

artifacts="$repo/tests/artifacts/desktop"
rm -rf "$artifacts"; mkdir -p "$artifacts"
export SY_APP="$app" SY_TAURI_DRIVER="$tools/bin/tauri-driver" SY_ARTIFACTS="$artifacts" \
  RUST_LOG="${RUST_LOG:-info}"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# One suite: its own fresh HOME and XDG dirs, its own D-Bus session with gnome-keyring's Secret
# Service unlocked, its own app start (the test launches it), at most 420 s.
# Usage: run_suite NAME SCRIPT [VAR=VALUE...] (the variables are set for that suite only).
run_suite() {
  local name=$1 script=$2
  shift 2
  local home="$tmp/$name/home"
  mkdir -p "$home" "$tmp/$name/run"; chmod 700 "$tmp/$name/run"
  echo "== desktop e2e: $name"
  env HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share" \
    XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$tmp/$name/run" "$@" \
    timeout 420 dbus-run-session -- sh -c '
      echo -n e2e-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      exec "$0" "$1"' "$tools/venv/bin/python" "$repo/tests/desktop/$script"
}

status=0
# An existing config written by the test, the window forced open.
port=$(free_port)
home="$tmp/main/home"
run_suite main test_e2e.py SY_LISTEN="127.0.0.1:$port" \
  SWITCHYARD_CONFIG="$home/.config/switchyard/config.toml" \
  SWITCHYARD_DATA_DIR="$home/.local/share/switchyard" \
  SWITCHYARD_TOKEN="sy-e2e-$(python3 -c 'import uuid;print(uuid.uuid4().hex)')" \
  SWITCHYARD_SHOW_WINDOW=1 || { echo "desktop e2e: test_e2e.py failed" >&2; status=1; }
# A first run: no config file, no token or window override; the gateway on a free port and
# the fake engine's URL given to discovery (the test starts the engine and sets that).
port=$(free_port)
run_suite first-run test_first_run.py SWITCHYARD_LISTEN="127.0.0.1:$port" \
  || { echo "desktop e2e: test_first_run.py failed" >&2; status=1; }
exit $status
