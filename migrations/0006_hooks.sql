-- 0006_hooks.sql: the database side of Clerk's webhooks (crates/hooks, `bookwish-hooks`).
--
-- Clerk sends user.created / user.updated / user.deleted through Svix to bookwish-hooks, which
-- verifies the signature and calls ONE of the two functions below, as the role
-- `bookwish_hooks`. That role can do nothing else: it owns nothing, reads no table, and may
-- execute only these two functions (see docs/backend.md, "Clerk webhooks").
--
--   app.hooks_upsert_user(delivery, user_id, email, display_name, image_url, changed_ms)
--     -> 'applied' | 'stale' | 'duplicate' | 'account_deleted'
--   app.hooks_delete_user(delivery, user_id)
--     -> {"result": "applied", "deleted": {table: rows, …}} | {"result": "duplicate"}
--
-- `delivery` is the `svix-id` header. Each function records it in app.hook_deliveries in the
-- same transaction as its effect, so a redelivery of a message already applied changes nothing
-- ('duplicate'), and a failed one leaves no record and can be retried. Records are kept for
-- app.hook_delivery_retention() (Svix retries for about a day and a half), then pruned.
--
-- Which source wins in `profiles`: Clerk. The app upserts {id, email, display_name} from its ID
-- token after sign-in (crates/auth/src/profile.rs); a row Clerk has written (clerk_updated_at
-- set) keeps Clerk's email, display_name and image_url whatever the app sends, and only Clerk
-- writes image_url and clerk_updated_at. Before Clerk's first event the app's values stand, and
-- Clerk's next event replaces them. Between two Clerk events the later `updated_at` (Clerk's
-- own, milliseconds) wins: an older event arriving late is answered 'stale' and writes nothing.
--
-- Deleting an account removes every row of the user from every per-user table in one
-- transaction and leaves a tombstone (the user id and the time, nothing else) in
-- app.deleted_accounts for app.deleted_account_retention(). While it is there:
--   * PostgREST refuses every request whose token belongs to that user with HTTP 403 and
--     {"code": "BW403", "message": "this account was deleted", …} (the pre-request function
--     app.refuse_deleted_account), so an app still holding a valid access token can neither
--     read nor write back what was deleted;
--   * a push that was already under way when the account was deleted fails instead of
--     re-creating rows (triggers on the tables a user's first write always touches);
--   * a late user.created / user.updated is answered 'account_deleted' and writes nothing.
--
-- The per-user tables deleted: books (tombstones included), sync_ledger, profiles, sync_state.
-- A migration adding a per-user table must extend app.hooks_delete_user; the hooks crate's test
-- `deleting_a_user_removes_every_row_of_theirs` looks up every table of schema public with a
-- user_id column and fails until it is covered.
--
-- The functions are SECURITY DEFINER, owned by the migration owner, which must be exempt from
-- RLS (the local superuser; hosted Supabase's `postgres` has BYPASSRLS): each checks this and
-- fails loudly rather than deleting nothing behind forced RLS.

-- ---------------------------------------------------------------------------------------------
-- Profiles: what Clerk adds

alter table public.profiles
  add column image_url text,
  add column clerk_updated_at timestamptz,
  add constraint profiles_image_url_check check (char_length(image_url) <= 2048);
comment on column public.profiles.image_url is 'The user''s image URL from Clerk (written by bookwish-hooks only)';
comment on column public.profiles.clerk_updated_at is
  'Clerk''s updated_at of the last user event applied; null until Clerk''s first event. Orders events; marks the row as Clerk''s';

-- A client (a request with a verified sub) writes only what its token knows; Clerk's columns
-- stay Clerk's. Server-side writes (no claims: bookwish-hooks, an admin) pass unchanged.
create function app.profile_sources() returns trigger
language plpgsql volatile
set search_path = ''
as $$
begin
  if app.user_id() is null then
    return new;
  end if;
  if tg_op = 'INSERT' then
    new.image_url := null;
    new.clerk_updated_at := null;
  else
    new.image_url := old.image_url;
    new.clerk_updated_at := old.clerk_updated_at;
    if old.clerk_updated_at is not null then
      new.email := old.email;
      new.display_name := old.display_name;
    end if;
  end if;
  return new;
end
$$;

create trigger profiles_sources before insert or update on public.profiles
  for each row execute function app.profile_sources();

-- ---------------------------------------------------------------------------------------------
-- Bookkeeping (schema app: not exposed by PostgREST, no grant to any API role)

create table app.hook_deliveries (
  svix_id text primary key,
  received_at timestamptz not null default now(),
  constraint hook_deliveries_svix_id_check check (char_length(svix_id) between 1 and 255)
);
comment on table app.hook_deliveries is
  'svix-id of every webhook message applied, for app.hook_delivery_retention(): a redelivery is a no-op';
create index hook_deliveries_received_at on app.hook_deliveries (received_at);

create table app.deleted_accounts (
  user_id text primary key,
  deleted_at timestamptz not null default now()
);
comment on table app.deleted_accounts is
  'Accounts deleted in Clerk, for app.deleted_account_retention(): refuses their still-valid tokens and late events';
create index deleted_accounts_deleted_at on app.deleted_accounts (deleted_at);

revoke all on table app.hook_deliveries, app.deleted_accounts
  from public, anon, authenticated, service_role;

-- How long a delivery id is remembered. Svix retries a failed message for about 28 hours; a
-- week also covers a manual "resend" from the dashboard. An attacker cannot replay an old
-- message after 5 minutes anyway: its signed timestamp is then refused.
create function app.hook_delivery_retention() returns interval
language sql immutable
set search_path = ''
as $$
  select interval '7 days'
$$;

-- How long a deleted account's id is kept: longer than any access token lives and than Svix
-- retries a late user.updated, then forgotten too.
create function app.deleted_account_retention() returns interval
language sql immutable
set search_path = ''
as $$
  select interval '30 days'
$$;

-- Common preamble: arguments present, the owner exempt from RLS, one event per user at a time
-- (a user.updated racing a user.deleted waits for it and then sees the tombstone), old
-- bookkeeping pruned, and the delivery recorded. Returns false for a delivery already applied.
create function app.hooks_begin(delivery text, uid text) returns boolean
language plpgsql volatile
set search_path = ''
as $$
declare
  n bigint;
begin
  if delivery is null or char_length(delivery) not between 1 and 255 then
    raise exception 'the delivery id (svix-id) must be 1 to 255 characters' using errcode = '22023';
  end if;
  if uid is null or char_length(uid) not between 1 and 255 then
    raise exception 'the user id must be 1 to 255 characters' using errcode = '22023';
  end if;
  if not exists (select 1 from pg_catalog.pg_roles
                  where rolname = current_user and (rolsuper or rolbypassrls)) then
    raise exception 'the owner of the hooks functions (%) must bypass row level security', current_user
      using errcode = '42501',
            hint = 'create migrations/0006_hooks.sql as the database owner (postgres on Supabase)';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('bookwish.account:' || uid, 0));
  delete from app.hook_deliveries where received_at < now() - app.hook_delivery_retention();
  delete from app.deleted_accounts where deleted_at < now() - app.deleted_account_retention();
  insert into app.hook_deliveries (svix_id) values (delivery) on conflict (svix_id) do nothing;
  get diagnostics n = row_count;
  return n = 1;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- The two functions bookwish-hooks calls

create function app.hooks_upsert_user(
  delivery text, user_id text, email text, display_name text, image_url text, changed_ms bigint)
returns text
language plpgsql volatile security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  uid text := hooks_upsert_user.user_id;
  changed timestamptz;
  n bigint;
begin
  if changed_ms is null or changed_ms < 0 then
    raise exception 'changed_ms (Clerk''s updated_at) must be milliseconds since 1970' using errcode = '22023';
  end if;
  if not app.hooks_begin(delivery, uid) then
    return 'duplicate';
  end if;
  if exists (select 1 from app.deleted_accounts as d where d.user_id = uid) then
    return 'account_deleted';
  end if;
  changed := timestamptz 'epoch' + changed_ms * interval '1 millisecond';
  insert into public.profiles as p (id, email, display_name, image_url, clerk_updated_at)
  values (uid, hooks_upsert_user.email, hooks_upsert_user.display_name,
          hooks_upsert_user.image_url, changed)
  on conflict (id) do update
     set email = excluded.email,
         display_name = excluded.display_name,
         image_url = excluded.image_url,
         clerk_updated_at = excluded.clerk_updated_at
   where p.clerk_updated_at is null or p.clerk_updated_at < excluded.clerk_updated_at;
  get diagnostics n = row_count;
  return case when n = 1 then 'applied' else 'stale' end;
end
$$;

create function app.hooks_delete_user(delivery text, user_id text) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  uid text := hooks_delete_user.user_id;
  n_books bigint;
  n_ledger bigint;
  n_profiles bigint;
  n_state bigint;
begin
  if not app.hooks_begin(delivery, uid) then
    return jsonb_build_object('result', 'duplicate');
  end if;
  -- The tombstone first: from the commit on, PostgREST refuses the user's tokens.
  insert into app.deleted_accounts as d (user_id) values (uid)
  on conflict (user_id) do update set deleted_at = now();
  -- Queue behind a push of this user under way (sync_push takes this lock first), so it commits
  -- before the rows are deleted, or fails on the tombstone after.
  perform 1 from public.sync_state as s where s.user_id = uid for update;

  delete from public.books as b where b.user_id = uid;
  get diagnostics n_books = row_count;
  delete from public.sync_ledger as l where l.user_id = uid;
  get diagnostics n_ledger = row_count;
  delete from public.profiles as p where p.id = uid;
  get diagnostics n_profiles = row_count;
  delete from public.sync_state as s where s.user_id = uid;
  get diagnostics n_state = row_count;
  -- What 0003_lockdown.sql kept of rows it repaired: the user's data too.
  delete from app.book_repairs as r where r.user_id = uid;

  return jsonb_build_object('result', 'applied', 'deleted', jsonb_build_object(
    'books', n_books, 'sync_ledger', n_ledger, 'profiles', n_profiles, 'sync_state', n_state));
end
$$;

comment on function app.hooks_upsert_user(text, text, text, text, text, bigint) is
  'Clerk user.created/user.updated: upsert the profile unless a later event was applied; see migrations/0006_hooks.sql';
comment on function app.hooks_delete_user(text, text) is
  'Clerk user.deleted: remove every row of the user in one transaction and refuse their tokens; see migrations/0006_hooks.sql';

-- ---------------------------------------------------------------------------------------------
-- A deleted account's tokens are refused

-- PostgREST's pre-request function: runs before every API request, in its transaction, as the
-- request's role. One primary-key probe of a table that is nearly always empty. It reads the
-- claim itself rather than through app.user_id() (same meaning): each nested SQL function with
-- its own search_path costs a settings save and restore, and this runs on every request
-- (about 14 µs a call this way, 46 µs through app.user_id(), measured on the local stack).
create function app.refuse_deleted_account() returns void
language plpgsql stable security definer
set search_path = ''
as $$
declare
  uid text := nullif(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb
                     ->> 'sub', '');
begin
  if uid is not null and exists (select 1 from app.deleted_accounts where user_id = uid) then
    raise sqlstate 'PGRST' using
      message = json_build_object(
        'code', 'BW403',
        'message', 'this account was deleted',
        'details', 'the account of this token was deleted in Clerk, and its data with it',
        'hint', 'sign in with an existing account')::text,
      detail = json_build_object('status', 403, 'headers', json_build_object())::text;
  end if;
end
$$;

-- A write that was past the pre-request check when the account was deleted: the first row a
-- user's write creates is its sync_state counter (every book write takes a version), its ledger
-- row or its profile. Checked after the insert, so the tombstone's commit is visible.
create function app.refuse_rows_of_deleted_account() returns trigger
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  owner text := to_jsonb(new) ->> tg_argv[0];
begin
  if exists (select 1 from app.deleted_accounts where user_id = owner) then
    raise exception 'this account was deleted' using errcode = '42501',
      detail = format('no new %s row for a deleted account', tg_table_name);
  end if;
  return null;
end
$$;

create trigger sync_state_refuse_deleted after insert on public.sync_state
  for each row execute function app.refuse_rows_of_deleted_account('user_id');
create trigger sync_ledger_refuse_deleted after insert on public.sync_ledger
  for each row execute function app.refuse_rows_of_deleted_account('user_id');
create trigger profiles_refuse_deleted after insert on public.profiles
  for each row execute function app.refuse_rows_of_deleted_account('id');

-- PostgREST calls app.refuse_deleted_account before every request once the operator sets it as
-- `pgrst.db_pre_request` on `authenticator`: migrations/operator/pre_request.sql. Not here:
-- hosted Supabase reserves `authenticator` to its superuser, so a migration run by `postgres`
-- (`supabase db push`) cannot change it. Without it, a deleted account's writes are still
-- refused by the triggers above; its reads find nothing.

-- ---------------------------------------------------------------------------------------------
-- The role bookwish-hooks logs in as: may execute the two functions, nothing else. It is made
-- without a login; the operator gives it one (docs/backend.md). Roles are per cluster, so an
-- existing one (a second database on the same server) is reused.

do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'bookwish_hooks') then
    create role bookwish_hooks nologin noinherit;
    comment on role bookwish_hooks is
      'bookwish-hooks (Clerk webhooks): may execute app.hooks_upsert_user and app.hooks_delete_user only';
  end if;
end
$$;

revoke all on function
  app.profile_sources(), app.hook_delivery_retention(), app.deleted_account_retention(),
  app.hooks_begin(text, text), app.hooks_upsert_user(text, text, text, text, text, bigint),
  app.hooks_delete_user(text, text), app.refuse_deleted_account(),
  app.refuse_rows_of_deleted_account()
  from public, anon, authenticated, service_role;
grant usage on schema app to bookwish_hooks;
grant execute on function app.hooks_upsert_user(text, text, text, text, text, bigint),
  app.hooks_delete_user(text, text)
  to bookwish_hooks;
-- PostgREST calls the pre-request function as whichever role the request runs as.
grant execute on function app.refuse_deleted_account() to anon, authenticated, service_role;
