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
# Pass --debug (and any other flag) on to `tauri build`.
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
# The config sits at the workspace root, the crate in src-tauri/ (whose
# one-line tauri.conf.json only lets the CLI find it). The bundler reads
# file paths relative to src-tauri/ while the build reads them relative to
# the config, so hand the CLI the config with absolute paths.
export TAURI_APP_PATH="$root/src-tauri"
config=$(mktemp --suffix=.json)
trap 'rm -f "$config"' EXIT
node -e '
const fs = require("fs");
const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const up = (p) => require("path").resolve(process.argv[3], p);
c.bundle.icon = c.bundle.icon.map(up);
for (const kind of ["deb", "rpm"]) {
  const files = c.bundle.linux[kind].files;
  for (const k of Object.keys(files)) files[k] = up(files[k]);
}
if (c.bundle.windows?.nsis?.installerIcon) c.bundle.windows.nsis.installerIcon = up(c.bundle.windows.nsis.installerIcon);
fs.writeFileSync(process.argv[2], JSON.stringify(c));
' "$root/tauri.conf.json" "$config" "$root"
npx tauri build --config "$config" --bundles "$bundles" "$@"
