#!/usr/bin/env bash
# Install what building (`build`) or testing (`test`) needs on Debian/Ubuntu, skipping what is
# already there. Safe to run again; needs root or sudo only when something is missing.
set -euo pipefail
what=${1:-build}

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

want() { for p in "$@"; do pkg_installed "$p" || need_apt+=("$p"); done; }

want build-essential pkg-config curl ca-certificates
if [ "$what" = test ]; then
  # Real keychain (gnome-keyring in dbus-run-session), Python for the SDK tests, Node for
  # Claude Code and the UI tests.
  want dbus dbus-x11 gnome-keyring libsecret-tools python3 python3-venv
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  if ! have apt-get; then
    echo "deps: missing ${need_apt[*]} and no apt-get: install them with your package manager" >&2
    exit 1
  fi
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "deps: installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  # An apt clean hook on some images removes downloads mid-run; a second try succeeds.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null \
    || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! have cargo; then
  echo "deps: cargo is missing: install Rust from https://rustup.rs (stable, 1.88 or newer)" >&2
  exit 1
fi
