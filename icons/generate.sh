#!/bin/sh
# Regenerates every icon from the SVG sources with the pinned Tauri CLI:
# the app icons (every size the bundles need) and the web UI's icon from
# holdfast.svg, and the 64 px tray icons from tray-*.svg.
set -eu
cd "$(dirname "$0")/../installers"
npm install --no-audit --no-fund --loglevel=error
npx tauri icon ../icons/holdfast.svg --output ../icons
rm -rf ../icons/android ../icons/ios   # no mobile builds
tmp=$(mktemp -d)
for s in locked unlocked waiting; do
    npx tauri icon "../icons/tray-$s.svg" --output "$tmp" --png 64
    mv "$tmp/64x64.png" "../icons/tray-$s.png"
done
rm -rf "$tmp"
# The web UI's icon is the same drawing.
cp ../icons/holdfast.svg ../ui/icon.svg
