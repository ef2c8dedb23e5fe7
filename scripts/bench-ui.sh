#!/usr/bin/env bash
# The UI part of `make bench`: the request inspector's time from the click on a captured
# 88 KB Claude Code request to both views shown (tests/ui/inspector.bench.mjs), in Debian's
# Chromium over the mocked IPC. A measurement printed for docs/PERFORMANCE.md, not a test.
# Skipped (exit 0) where Node.js or Chromium is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1 || [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "SKIPPED: the UI bench needs Node.js and Chromium (scripts/desktop-deps.sh --test installs Chromium)"
  exit 0
fi
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  npm --prefix ui install --no-audit --no-fund --loglevel=error
fi
npm --prefix ui run --silent build >/dev/null
npm --prefix ui run --silent build:mocks >/dev/null
node tests/ui/inspector.bench.mjs
