#!/usr/bin/env bash
# The UI alone: Vitest component/unit tests, then Playwright in Debian's Chromium against
# `vite preview` with the Tauri IPC mocked. Screenshots go to tests/artifacts/ui/.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1; then
  echo "SKIPPED: Node.js is not installed (apt-get install nodejs npm)"
  exit 77
fi
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  # `npm ci` refuses lockfiles written where some other-platform packages are missing from
  # the registry (see docs); `npm install` resolves the same versions.
  npm --prefix ui install --no-audit --no-fund --loglevel=error
fi
[ -x /usr/bin/chromium ] || scripts/desktop-deps.sh --test
# Types first: the generated bindings and the screens must agree.
npm --prefix ui run check
npm --prefix ui test
npm --prefix ui run test:e2e
