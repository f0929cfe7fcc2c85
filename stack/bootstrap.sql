-- stack/bootstrap.sql: what hosted Supabase already has, for the local stack only.
-- NEVER apply this to Supabase. Run by crates/stack as the cluster's superuser `supabase_admin`
-- (the name hosted Supabase gives its superuser) before migrations/, with psql variables
-- :authenticator_password and :postgres_password.
--
-- Roles as on Supabase (its Postgres image: migrations/db/init-scripts/00000000000000-initial-
-- schema.sql and migrations/db/migrations/10000000000000_demote-postgres.sql):
--   * `postgres` is NOT a superuser: NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION
--     BYPASSRLS. It owns the database and applies migrations/, so the migrations meet here the
--     same rights they meet on a hosted project (a migration that needs a superuser fails here
--     too), and the objects they create are owned by a role that bypasses RLS, as on Supabase.
--   * PostgREST logs in as `authenticator` (NOINHERIT, so it has no rights of its own) and
--     switches to `anon` when a request has no token or a token without a `role` claim (Clerk
--     OAuth access tokens), or to the token's role (`authenticated` for Clerk session tokens).
--   * `service_role` bypasses RLS (server-side jobs only).

create role postgres login nosuperuser createdb createrole replication bypassrls
  password :'postgres_password';
alter database postgres owner to postgres;

create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit password :'authenticator_password';
grant anon, authenticated, service_role to authenticator;

-- Supabase's timeouts. PostgREST (11.1 and later) applies the impersonated role's settings to
-- each request, so a role-less Clerk token (anon) gets 3 s and a session token 8 s.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';
alter role postgres set search_path to "$user", public, extensions;

-- Schema usage and default privileges as on Supabase: what `postgres` creates in public is
-- granted to all three API roles (ALL, TRUNCATE included; the migrations narrow this), so the
-- migrations meet the same starting point here as on a hosted project.
create schema extensions authorization postgres;
grant usage on schema public to anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to anon, authenticated, service_role;
