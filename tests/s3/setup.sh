#!/bin/sh
# Installs the real S3 clients the tests drive, when missing: Debian's
# awscli and rclone (apt), and the newest boto3 from PyPI in a venv here.
set -eu
cd "$(dirname "$0")"
missing=""
[ -x /usr/bin/aws ] || missing="$missing awscli"
command -v rclone >/dev/null 2>&1 || missing="$missing rclone"
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if ! .venv/bin/python -c "import boto3" >/dev/null 2>&1; then
    python3 -m venv .venv
    .venv/bin/pip install -q --upgrade boto3
fi
