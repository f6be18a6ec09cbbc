#!/usr/bin/env bash
# What `make e2e-browser` needs beyond .venv: Debian's Chromium and ChromeDriver (a browser
# download by a test tool does not work offline), and selenium from PyPI into .venv.
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "installing Debian's chromium and chromium-driver" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >&2
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-browser.txt >&2
echo "browser ready: $(chromium --version 2>/dev/null), $(chromedriver --version 2>/dev/null | cut -d' ' -f1-2)" >&2
