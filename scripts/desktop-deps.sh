#!/usr/bin/env bash
# Installs the system packages needed to build (and, with --test, to end-to-end test) the
# desktop app on Debian/Ubuntu. Idempotent: does nothing when the libraries are already there.
set -euo pipefail

BUILD="build-essential pkg-config curl wget file libssl-dev libgtk-3-dev libwebkit2gtk-4.1-dev \
libayatana-appindicator3-dev librsvg2-dev libxdo-dev"
TEST="xvfb xauth x11-utils xdotool imagemagick trayer webkit2gtk-driver chromium \
gnome-keyring dbus-x11 libsecret-tools fonts-wqy-microhei"

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

need_build=1
if pkg-config --exists webkit2gtk-4.1 ayatana-appindicator3-0.1 2>/dev/null; then need_build=0; fi
need_test=0
if [ "$want_test" = 1 ]; then
  for bin in Xvfb xdotool trayer WebKitWebDriver chromium gnome-keyring-daemon dbus-run-session; do
    command -v "$bin" >/dev/null 2>&1 || need_test=1
  done
fi
if [ "$need_build" = 0 ] && [ "$need_test" = 0 ]; then
  echo "desktop-deps: system packages already present"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "desktop-deps: apt-get not found; install the equivalents of: $BUILD" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PKGS="$BUILD"
[ "$want_test" = 1 ] && PKGS="$PKGS $TEST"
$SUDO apt-get update
# The first install can fail when an apt clean hook removes downloads mid-run: retry once.
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $PKGS \
  || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $PKGS
