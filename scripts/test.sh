#!/usr/bin/env bash
# Everything CI checks, in order: lints, unit and integration tests (real PostgreSQL,
# PostgREST and OpenID provider, started by the tests), the packaged build, and the end-to-end
# tests of the built app in WebKit under Xvfb over WebDriver. Called by `./x test` after setup.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
mkdir -p test-output
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
started=$SECONDS
step() { printf '\033[1m==> [%4ss] %s\033[0m\n' "$((SECONDS - started))" "$*" >&2; }

# A private session bus and an unlocked Secret Service keychain for everything below, in a
# throwaway HOME so nothing touches the real user's data or keyring.
if [ -z "${BOOKWISH_TEST_SESSION:-}" ]; then
  export BOOKWISH_TEST_SESSION=1
  scratch=$(mktemp -d /tmp/bookwish-test.XXXXXX)
  mkdir -p "$scratch/home"
  trap 'rm -rf "$scratch"' EXIT
  HOME_REAL=$HOME
  export CARGO_HOME=${CARGO_HOME:-$HOME_REAL/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME_REAL/.rustup}
  export HOME=$scratch/home XDG_DATA_HOME=$scratch/home/.local/share XDG_CONFIG_HOME=$scratch/home/.config
  exec dbus-run-session -- "$0" "$@"
fi
# The keychain is checked again right before each step of tests that use it, and restarted
# unlocked if it does not answer: once, in a clean run, the daemon started here was gone 23
# minutes later, when the tests began (cause unknown), and the Secret Service that D-Bus then
# started had its collection locked.
# A healthy daemon is left alone: `--replace` returns before the new daemon owns the bus name,
# so a call in that moment reaches the old daemon as it quits ("Message recipient disconnected
# from message bus without replying", seven auth tests failed so in CI) or no one (and D-Bus
# starts a locked one). After a restart the tests wait until the new daemon owns the name and
# answers a round trip.
secrets_owner() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.GetNameOwner string:org.freedesktop.secrets 2>/dev/null | tr -d ' ' ||
    true # no owner: empty
}
keychain_answers() { # store, look up and clear an entry through the Secret Service
  echo -n ok | timeout 10 secret-tool store --label='Bookwish test probe' bookwish-test probe &&
    [ "$(timeout 10 secret-tool lookup bookwish-test probe)" = ok ] &&
    timeout 10 secret-tool clear bookwish-test probe
} >/dev/null 2>&1
unlock_keychain() {
  local before now
  before=$(secrets_owner)
  if [ -n "$before" ] && keychain_answers; then return 0; fi
  echo -n bookwish-test | gnome-keyring-daemon --replace --unlock --components=secrets \
    >/dev/null 2>&1 || true
  for _ in $(seq 60); do
    now=$(secrets_owner)
    if [ -n "$now" ] && [ "$now" != "$before" ] && keychain_answers; then return 0; fi
    sleep 0.5
  done
  echo "warning: the test keychain (gnome-keyring's Secret Service) does not answer;" \
    "the tests that use it will fail" >&2
}
unlock_keychain

step "lint (fmt; clippy for wasm32, Windows and macOS; actionlint)"
BOOKWISH_LINT_NATIVE=0 scripts/lint.sh

# One compilation for clippy and the tests: clippy-driver (rustc plus clippy's lints) compiles
# the workspace's own crates, warnings as errors, exactly as `cargo clippy --workspace
# --all-targets -- -D warnings` would, while the dependencies are compiled once, for real, and
# the test binaries come out linked. Every `cargo test` below runs with the same environment
# and the same package set (--workspace), so nothing is compiled twice; the end-to-end tests
# are `test = false` targets in crates/e2e, run by name once the app is built (and the
# WebKitGTK one in crates/webkit, under Xvfb).
# (CLIPPY_ARGS is how `cargo clippy` hands its arguments to clippy-driver.) `tauri build` runs
# without it: the shipped binary is compiled by plain rustc.
# The test binaries are linked by mold (Debian's package): some forty of them, each linking
# the whole dependency tree, are where a plain `ld` spent minutes.
LINT_CARGO=(env "RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver)"
  "CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
  "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS=-C link-arg=-fuse-ld=mold" cargo)
step "clippy (native, every target) and the test build"
"${LINT_CARGO[@]}" test --workspace --all-targets --locked --no-run
"${LINT_CARGO[@]}" test --workspace --test e2e --test installed --test webkit --locked --no-run

# Test output goes to a file first, then to the log: a helper process that outlived its test
# must not keep a pipe (and so this script) open.
run_logged() { # log-file command...
  local log=$1 rc=0
  shift
  "$@" > "$log" 2>&1 || rc=$?
  cat "$log"
  return $rc
}

# The app's GTK accessibility bridge would start at-spi daemons that outlive the tests.
export NO_AT_BRIDGE=1

step "unit and integration tests"
unlock_keychain
run_logged test-output/cargo-test.log "${LINT_CARGO[@]}" test --workspace --locked

# WebKitGTK's settings need a running GTK, so a display.
step "WebKitGTK feature switches (Xvfb)"
run_logged test-output/webkit.log xvfb-run -a "${LINT_CARGO[@]}" test --workspace --test webkit --locked

step "tauri build (.deb and .rpm)"
tauri build --bundles deb,rpm 2>&1 | tail -n 20
ls -l "$TARGET"/release/bundle/deb/*.deb "$TARGET"/release/bundle/rpm/*.rpm
scripts/check-bundles.sh

step "end-to-end tests of the built app (Xvfb + WebDriver)"
unlock_keychain
BOOKWISH_E2E_APP="$TARGET/release/bookwish" run_logged test-output/e2e.log \
  xvfb-run -a -s '-screen 0 1280x800x24' \
  "${LINT_CARGO[@]}" test --workspace --test e2e --locked -- --test-threads=1

# The .deb as a user gets it: installed with apt-get, started from /usr/bin, signed in through
# the desktop's bookwish:// handler (xdg-open → gio), uninstalled and reinstalled. Needs root or
# password-less sudo; it removes the package again at the end.
step "install test of the .deb (apt-get install, gio deep link, reinstall)"
unlock_keychain
deb=$(ls "$TARGET"/release/bundle/deb/*.deb | head -n 1)
BOOKWISH_E2E_DEB="$deb" BOOKWISH_E2E_APP=/usr/bin/bookwish run_logged test-output/e2e-installed.log \
  xvfb-run -a -s '-screen 0 1280x800x24' \
  "${LINT_CARGO[@]}" test --workspace --test installed --locked

step "done"
