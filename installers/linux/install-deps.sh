#!/bin/sh
# Installs the system packages the desktop app (Tauri 2 on WebKitGTK) needs
# to build and run on Debian/Ubuntu, when they are missing. The headless
# daemon needs none of them.
set -eu
PACKAGES="libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev \
libsoup-3.0-dev libdbus-1-dev libssl-dev pkg-config file xvfb xauth x11-utils imagemagick"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install these packages with your package manager:$missing" >&2
    exit 1
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
