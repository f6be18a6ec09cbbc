#!/usr/bin/env bash
# Builds every function for Lambda on arm64 (provided.al2023) with cargo-lambda, one zip per
# function under target/lambda/arm64/<function>/bootstrap.zip, then checks the size budgets:
# the authorizer's zip <= 2 MiB (2,097,152 bytes), every other function's <= 6 MB (10^6 bytes,
# the stricter reading). Prints a markdown size table; exits non-zero when a budget is exceeded.
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo-lambda and zig come from the project's virtual environment (make venv).
export PATH="$PWD/.venv/bin:$PATH"
TARGET=aarch64-unknown-linux-gnu
TARGET_DIR=${CARGO_TARGET_DIR:-target}
# Its own directory: x86_64 builds would otherwise share target/lambda/<function>/.
LAMBDA_DIR=$TARGET_DIR/lambda/arm64
AUTHORIZER_BUDGET=2097152
FUNCTION_BUDGET=6000000

if ! command -v cargo-lambda >/dev/null; then
    echo "cargo-lambda is not on PATH: run make venv (scripts/bootstrap-venv.sh)" >&2
    exit 1
fi

# cargo-lambda would add the target on first use anyway; doing it first fails early and
# clearly when rustup cannot download it.
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$TARGET"; then
    rustup target add "$TARGET"
fi

functions=()
for manifest in functions/*/Cargo.toml; do
    functions+=("$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -n 1)")
done
packages=()
for function in "${functions[@]}"; do
    packages+=(-p "$function")
done

cargo lambda build --release --arm64 --output-format zip --lambda-dir "$LAMBDA_DIR" "${packages[@]}"

mb() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1e6 }'; }

failed=0
echo
echo "| function | zip MB | binary MB (arm64, stripped) | budget MB | |"
echo "|---|---:|---:|---:|---|"
for function in "${functions[@]}"; do
    zip="$LAMBDA_DIR/$function/bootstrap.zip"
    binary="$TARGET_DIR/$TARGET/release/$function"
    if [ "$function" = authorizer ]; then budget=$AUTHORIZER_BUDGET; else budget=$FUNCTION_BUDGET; fi
    if [ ! -f "$zip" ]; then
        echo "| $function | missing | | $(mb "$budget") | FAIL |"
        failed=1
        continue
    fi
    size=$(stat -c %s "$zip")
    binary_size=$( [ -f "$binary" ] && stat -c %s "$binary" || echo 0 )
    status=ok
    if [ "$size" -gt "$budget" ]; then
        status="OVER BUDGET"
        failed=1
    fi
    echo "| $function | $(mb "$size") | $(mb "$binary_size") | $(mb "$budget") | $status |"
done
echo

if [ "$failed" -ne 0 ]; then
    echo "package: a zip is missing or over its budget" >&2
    exit 1
fi
echo "zips in $LAMBDA_DIR/<function>/bootstrap.zip"
