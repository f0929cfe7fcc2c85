#!/usr/bin/env bash
# The Windows app, cross-built on Linux: bookwish.exe for x86_64-pc-windows-gnu, compiled and
# linked by Debian's mingw-w64 (its windres compiles the icon, version info and manifest), beside
# the WebView2Loader.dll it loads. Unsigned and without an installer: the .msi and the NSIS
# -setup.exe are made only by the release workflow on Windows (README, "What CI proves for
# Windows and macOS"). Called by `./x build` after the Linux bundles, whose `tauri build` has just
# built the front end into src-ui/dist.
#
# Then checks what a Windows machine needs to start it: the GUI subsystem (no console window),
# WebView2Loader.dll beside the exe, and no DLL that only mingw-w64 provides (libgcc_s,
# libwinpthread, libstdc++: Windows does not have them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
TRIPLE=x86_64-pc-windows-gnu
# Its own target folder: nothing shared or confused with the Linux build or the clippy
# cross-checks in target/cross.
OUT=${CARGO_TARGET_DIR:-$ROOT/target}/windows
RELEASE=$OUT/$TRIPLE/release
started=$SECONDS

if [ ! -f src-ui/dist/index.html ]; then
  echo "src-ui/dist is missing: build the front end first (./x build does)" >&2
  exit 1
fi

# `tauri build` rather than plain cargo: it turns on tauri/custom-protocol, without which the exe
# would load the dev server's URL instead of the embedded front end. Its beforeBuildCommand
# (trunk) is dropped: the front end is already built, and trunk would compile it a second time
# into this target folder.
CARGO_TARGET_DIR=$OUT tauri build --target "$TRIPLE" --no-bundle \
  --config '{"build":{"beforeBuildCommand":null}}' -- --locked

exe=$RELEASE/bookwish.exe
loader=$RELEASE/WebView2Loader.dll
# tauri-build copies the loader out of webview2-com-sys's build folder when the app's build script
# runs; cargo does not order that build script after webview2-com-sys's, so on a first build the
# copy can be missed. The same file, from the same place:
if [ ! -f "$loader" ]; then
  found=$(find "$RELEASE/build" -path '*webview2-com-sys*/out/x64/WebView2Loader.dll' -print -quit)
  if [ -z "$found" ]; then
    echo "WebView2Loader.dll not found in $RELEASE/build (webview2-com-sys)" >&2
    exit 1
  fi
  cp "$found" "$loader"
fi

headers=$(x86_64-w64-mingw32-objdump -p "$exe")
if ! grep -q 'Subsystem.*(Windows GUI)' <<<"$headers"; then
  echo "$exe is not a GUI-subsystem program: a console window would open beside the app" >&2
  exit 1
fi
imports=$(sed -n 's/^[[:space:]]*DLL Name: //p' <<<"$headers" | sort -fu)
mingw_only=$(find /usr/lib/gcc/x86_64-w64-mingw32 /usr/x86_64-w64-mingw32 -iname '*.dll' -printf '%f\n' | sort -fu)
runtime=$(comm -12 <(tr '[:upper:]' '[:lower:]' <<<"$imports" | sort -u) \
  <(tr '[:upper:]' '[:lower:]' <<<"$mingw_only" | sort -u))
if [ -n "$runtime" ]; then
  echo "$exe needs mingw-w64 runtime DLLs that Windows lacks: $runtime (link them statically)" >&2
  exit 1
fi

printf '==> Windows app (%ss), unsigned, no installer; copy both files to run it:\n' \
  "$((SECONDS - started))" >&2
ls -l "$exe" "$loader" >&2
size=$(numfmt --to=iec-i --suffix=B --round=nearest --format=%.1f "$(stat -c %s "$exe")")
printf '    bookwish.exe: %s; imports: %s\n' "$size" "$(tr '\n' ' ' <<<"$imports")" >&2
