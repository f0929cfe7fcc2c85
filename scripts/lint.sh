#!/usr/bin/env bash
# Formatting and lints, warnings as errors, for the native workspace and the wasm UI.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> cargo fmt --check" >&2
cargo fmt --all --check
echo "==> cargo clippy (native)" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo clippy (src-ui, wasm32)" >&2
cargo clippy -p bookwish-ui --target wasm32-unknown-unknown --locked -- -D warnings
