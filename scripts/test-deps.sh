#!/usr/bin/env bash
# Install what the end-to-end suites need, once; every step is skipped when already done.
#   - apt (root only): gnome-keyring dbus-x11 libsecret-tools (real keychain), curl, python3-venv
#   - npm: @anthropic-ai/claude-code (pinned) into $SWITCHYARD_CACHE/node_modules
#   - PyPI: anthropic (pinned) into the venv $SWITCHYARD_CACHE/venv
# SWITCHYARD_CACHE defaults to ~/.cache/switchyard-test (outside the clone).
# Exits non-zero when something could not be installed (the suites then skip, saying why).
set -u
source "$(dirname "$0")/../tests/e2e/deps.sh"

failed=0
missing_apt=""
command -v curl >/dev/null || missing_apt="$missing_apt curl"
python3 -c 'import ensurepip, venv' 2>/dev/null || missing_apt="$missing_apt python3-venv"
command -v npm >/dev/null || missing_apt="$missing_apt npm"
if [ -n "$missing_apt" ]; then
    if [ "$(id -u)" = 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && { apt-get install -y -qq --no-install-recommends $missing_apt ||
            apt-get install -y -qq --no-install-recommends $missing_apt; } || failed=1
    else
        echo "missing:$missing_apt (apt-get install -y$missing_apt)" >&2
        failed=1
    fi
fi
ensure_keyring_tools && echo "keychain tools: ok" || { echo "keychain tools: MISSING"; failed=1; }
if claude="$(ensure_claude_code)"; then echo "claude code: $claude"; else echo "claude code: MISSING"; failed=1; fi
if py="$(ensure_anthropic_sdk)"; then echo "anthropic sdk: $py"; else echo "anthropic sdk: MISSING"; failed=1; fi
exit "$failed"
