# Installing (once, into a cache outside the clone) the real clients the end-to-end suites
# drive. Sourced by the suites and by scripts/test-deps.sh. Each function is idempotent: it
# returns at once when the pinned version is already there.
#
#   SWITCHYARD_CACHE       cache root (default ~/.cache/switchyard-test)
#   CLAUDE_CODE_VERSION    npm version of @anthropic-ai/claude-code (default pinned below)
#   ANTHROPIC_SDK_VERSION  PyPI version of anthropic (default pinned below)

: "${SWITCHYARD_CACHE:=${HOME:-/tmp}/.cache/switchyard-test}"
: "${CLAUDE_CODE_VERSION:=2.1.197}"
: "${ANTHROPIC_SDK_VERSION:=2.12.0}"

# Print the path of a runnable Claude Code binary, installing it when absent.
ensure_claude_code() {
    local dir="$SWITCHYARD_CACHE"
    local pkg="$dir/node_modules/@anthropic-ai/claude-code"
    local installed=""
    if [ -f "$pkg/package.json" ]; then
        installed="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg/package.json" | head -n 1)"
    fi
    if [ "$installed" != "$CLAUDE_CODE_VERSION" ]; then
        command -v npm >/dev/null || {
            echo "npm is not installed (apt-get install -y nodejs npm)" >&2
            return 1
        }
        mkdir -p "$dir"
        echo "installing @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION into $dir" >&2
        npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
            "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" </dev/null >&2 || return 1
    fi
    # The platform package carries the native binary; npm may skip the postinstall that links
    # it, so prefer it directly.
    local candidate
    for candidate in \
        "$dir/node_modules/@anthropic-ai/claude-code-linux-x64/claude" \
        "$dir/node_modules/@anthropic-ai/claude-code-linux-arm64/claude" \
        "$pkg/bin/claude.exe" \
        "$dir/node_modules/.bin/claude"; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    echo "no runnable claude binary under $dir" >&2
    return 1
}

# Print the path of a venv python with the Anthropic SDK, creating the venv when absent.
ensure_anthropic_sdk() {
    local venv="$SWITCHYARD_CACHE/venv"
    local py="$venv/bin/python"
    if [ -x "$py" ] && "$py" -c 'import anthropic,sys; sys.exit(anthropic.__version__ != sys.argv[1])' \
        "$ANTHROPIC_SDK_VERSION" 2>/dev/null; then
        echo "$py"
        return 0
    fi
    command -v python3 >/dev/null || {
        echo "python3 is not installed" >&2
        return 1
    }
    if [ ! -x "$py" ]; then
        python3 -m venv "$venv" >&2 || return 1
    fi
    echo "installing anthropic==$ANTHROPIC_SDK_VERSION into $venv" >&2
    "$py" -m pip install -q --disable-pip-version-check "anthropic==$ANTHROPIC_SDK_VERSION" \
        </dev/null >&2 || return 1
    echo "$py"
}

# gnome-keyring, dbus-run-session and secret-tool for the real-keychain suite (root only).
ensure_keyring_tools() {
    if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "need gnome-keyring and dbus-run-session: apt-get install -y gnome-keyring dbus-x11 libsecret-tools" >&2
        return 1
    fi
    local pkgs="gnome-keyring dbus-x11 libsecret-tools"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || return 1
    # The image's apt clean hook can remove a download mid-run: retry once.
    apt-get install -y -qq --no-install-recommends $pkgs >&2 ||
        apt-get install -y -qq --no-install-recommends $pkgs >&2
}
