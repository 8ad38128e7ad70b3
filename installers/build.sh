#!/bin/sh
# Builds the desktop app's installers with the pinned Tauri CLI:
#   Linux: .deb and .rpm      Windows: NSIS and MSI      macOS: .app and .dmg
# The packages also carry the `holdfast` CLI/daemon and its systemd user unit.
# Output: $CARGO_TARGET_DIR/release/bundle/<kind>/ (default target/).
# `build.sh --debug` builds unoptimised bundles under debug/bundle/ (the
# package test uses it: it reuses the test build).
set -eu
profile=release
if [ "${1:-}" = "--debug" ]; then
    profile=debug
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
case "$(uname -s)" in
    Linux) bundles=deb,rpm; sh installers/linux/install-deps.sh ;;
    Darwin) bundles=app,dmg ;;
    *) bundles=nsis,msi ;;
esac
target=${CARGO_TARGET_DIR:-$root/target}
if [ "$profile" = release ]; then
    cargo build --release --locked -p holdfast-daemon
else
    cargo build --locked -p holdfast-daemon
fi
mkdir -p installers/linux/stage
cp "$target/$profile/holdfast" installers/linux/stage/holdfast
cd installers
npm install --no-audit --no-fund --loglevel=error
# The config sits at the workspace root, the crate in src-tauri/.
export TAURI_APP_PATH="$root/src-tauri" TAURI_FRONTEND_PATH="$root/ui"
npx tauri build --config "$root/tauri.conf.json" --bundles "$bundles" "$@"
