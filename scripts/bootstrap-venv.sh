#!/usr/bin/env bash
# Creates the project's Python virtual environment (.venv) with the local tooling:
# moto's server (the local Cognito), cfn-lint, cargo-lambda and zig; and checkov and SAM's
# transform in an environment of their own ($VENV/checkov), since checkov pins an older botocore
# than moto's.
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PY=${PYTHON:-python3}
REQUIREMENTS=scripts/requirements-dev.txt
CHECKOV_REQUIREMENTS=scripts/requirements-checkov.txt
STAMP=$VENV/.requirements.sha256

want=$(cat "$REQUIREMENTS" "$CHECKOV_REQUIREMENTS" | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" >&2
if [ ! -x "$VENV/checkov/bin/python" ]; then
    "$PY" -m venv "$VENV/checkov"
fi
"$VENV/checkov/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
"$VENV/checkov/bin/python" -m pip install --quiet --disable-pip-version-check -r "$CHECKOV_REQUIREMENTS" >&2
echo "$want" > "$STAMP"
echo "$VENV ready: $("$VENV/bin/moto_server" --version 2>/dev/null || echo moto), $("$VENV/bin/cfn-lint" --version)" >&2
