#!/bin/sh
# Installs schemathesis when missing: a virtualenv in .venv with the
# versions pinned in requirements.txt (PyPI). Debian's python3 needs
# python3-venv for `python3 -m venv`; it is installed with apt if missing.
set -eu
cd "$(dirname "$0")"
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
fi
# Reinstall when requirements.txt changed since the last install.
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/st ] || [ "$(cat .venv/installed 2>/dev/null)" != "$want" ]; then
    rm -rf .venv
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
    echo "$want" > .venv/installed
fi
