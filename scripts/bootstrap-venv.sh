#!/usr/bin/env bash
# Creates the project's Python virtual environment (.venv) with the local tooling:
# moto's server (the local Cognito), cfn-lint, cargo-lambda and zig.
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PY=${PYTHON:-python3}
REQUIREMENTS=scripts/requirements-dev.txt
STAMP=$VENV/.requirements.sha256

want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" >&2
echo "$want" > "$STAMP"
echo "$VENV ready: $("$VENV/bin/moto_server" --version 2>/dev/null || echo moto), $("$VENV/bin/cfn-lint" --version)" >&2
