#!/bin/sh
# Installs the real Claude Code program the agent-session tests drive, from
# the npm registry, pinned by package-lock.json (its native binary comes as
# an optional dependency for this platform). Without npm, or offline, it
# says so and exits 1: the tests that need the program then skip.
set -eu
cd "$(dirname "$0")"
if [ -x node_modules/.bin/claude ] && node_modules/.bin/claude --version >/dev/null 2>&1; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "agent tests: npm is not installed; install Node.js to run them" >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
node_modules/.bin/claude --version >/dev/null
