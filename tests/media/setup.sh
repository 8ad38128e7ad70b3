#!/bin/sh
# Installs what the media tests use when it is missing: Debian's ffmpeg
# (ffmpeg encodes MP3/FLAC/Opus/M4A/MKV test files; ffprobe lists video
# tracks). Without root or apt it says so and exits 1: the tests that need
# ffmpeg then skip, the rest still run.
set -eu
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "media tests: install ffmpeg with your package manager" >&2
    exit 1
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo -n"
$SUDO apt-get update -qq || exit 1
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null
