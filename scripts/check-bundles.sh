#!/usr/bin/env bash
# Checks the desktop entry inside the built .deb and .rpm: an installed Bookwish must receive
# bookwish:// links, so its Exec line passes the URL (%u) and it declares the scheme handler.
set -euo pipefail
TARGET=${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}
fail=0
check() { # name entry-text
  local name=$1 entry=$2
  if ! grep -qE '^Exec=.* %u$' <<<"$entry"; then
    echo "FAIL $name: the desktop entry's Exec line does not pass the URL (%u)"; fail=1
  fi
  if ! grep -qE '^MimeType=.*x-scheme-handler/bookwish;' <<<"$entry"; then
    echo "FAIL $name: the desktop entry does not declare x-scheme-handler/bookwish"; fail=1
  fi
  if command -v desktop-file-validate >/dev/null; then
    tmp=$(mktemp --suffix=.desktop); printf '%s\n' "$entry" > "$tmp"
    desktop-file-validate "$tmp" || { echo "FAIL $name: desktop-file-validate"; fail=1; }
    rm -f "$tmp"
  fi
  [ $fail = 0 ] && echo "ok   $name: $(grep -E '^Exec=' <<<"$entry")"
}
for deb in "$TARGET"/release/bundle/deb/*.deb; do
  entry=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards '*usr/share/applications/*.desktop')
  check "$(basename "$deb")" "$entry"
done
for rpm in "$TARGET"/release/bundle/rpm/*.rpm; do
  # Through a file: cpio stops reading early (a broken pipe would fail pipefail), and
  # Debian's rpm2cpio exits 1 after writing a complete archive, so judge it by its output.
  archive=$(mktemp)
  rpm2cpio "$rpm" > "$archive" || true
  entry=$(cpio -i --quiet --to-stdout '*usr/share/applications/*.desktop' < "$archive")
  rm -f "$archive"
  check "$(basename "$rpm")" "$entry"
done
exit $fail
