#!/bin/sh
# Installs what the browser tests need when it is missing: Debian's Chromium
# (apt), playwright-core and axe-core (npm, pinned by package-lock.json).
set -eu
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ ! -f node_modules/playwright-core/package.json ] || [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/jsqr/package.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
