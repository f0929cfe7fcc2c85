-- stack/bootstrap.sql: what hosted Supabase already has, for the local stack only.
-- NEVER apply this to Supabase. Run by crates/stack as the superuser before migrations/, with
-- psql variable :authenticator_password.
--
-- Roles as on Supabase: PostgREST logs in as `authenticator` (NOINHERIT, so it has no rights of
-- its own) and switches to `anon` when a request has no token or a token without a `role`
-- claim (Clerk OAuth access tokens), or to the token's role (`authenticated` for Clerk session
-- tokens). `service_role` bypasses RLS (server-side jobs only).

create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit password :'authenticator_password';
grant anon, authenticated, service_role to authenticator;

-- Supabase's statement timeouts.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';

-- Schema usage and default privileges as on Supabase: new tables, functions and sequences in
-- public are granted to all three API roles (ALL, TRUNCATE included; the migrations narrow
-- this), so the migrations meet the same starting point here as on a hosted project.
grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
