-- 0001_schema.sql: Bookwish's server tables, guarded by Row Level Security on the Clerk user id.
--
-- Applies unchanged to hosted Supabase and to the local stack (crates/stack). Hosted Supabase
-- forbids creating objects in its `auth` schema, so the helpers live in our own schema `app`.
-- The roles anon, authenticated and service_role already exist on Supabase; locally
-- stack/bootstrap.sql creates them first.
--
-- Who is asking: PostgREST verifies the bearer token (a Clerk OAuth access token or session
-- token) and exposes its claims as the setting `request.jwt.claims`. `app.user_id()` is the
-- verified `sub` (`user_2abc…`: text, never a uuid, so no `auth.uid()`). Clerk OAuth access
-- tokens carry no `role` claim and run as `anon`; session tokens carry `role: authenticated`.
-- Every policy therefore keys on the verified `sub` alone and is granted to both roles: either
-- token kind reaches its own rows only, and a request without a verified `sub` sees nothing.
--
-- Versions: `books.version` comes from the per-user counter `sync_state.seq`, bumped by a
-- trigger under that user's row lock, which is held until commit. Versions of one user therefore
-- commit in increasing order, so a pull cursor on `version` never skips a late commit (a
-- timestamp cursor does, and a bare sequence can commit out of order).
--
-- Clients never hard-delete: `deleted` is a tombstone. No policy and no grant lets anon or
-- authenticated delete or truncate (Supabase's default privileges grant ALL, TRUNCATE included,
-- which RLS does not guard, so this file revokes them explicitly).

create schema app;
comment on schema app is 'Bookwish helpers (not exposed by PostgREST): JWT claims, stamps, sync internals';
grant usage on schema app to anon, authenticated, service_role;

-- The verified JWT claims of this request, or {} outside a request.
create function app.claims() returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(nullif(pg_catalog.current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;

-- The verified user id (JWT `sub`), or null when the request carries no verified token.
create function app.user_id() returns text
language sql stable
set search_path = ''
as $$
  select nullif(app.claims() ->> 'sub', '')
$$;

-- The synced fields of a book, in a fixed order. `field_versions` has one entry per field.
create function app.book_fields() returns text[]
language sql immutable
set search_path = ''
as $$
  select array['title', 'author', 'status', 'notes', 'rating', 'started_on', 'finished_on', 'deleted']
$$;

-- ---------------------------------------------------------------------------------------------
-- Tables

create table public.sync_state (
  user_id text primary key,
  seq bigint not null default 0 check (seq >= 0)
);
comment on table public.sync_state is
  'Per-user commit-ordered version counter; its row lock orders the versions of one user';

create table public.books (
  id uuid primary key,
  user_id text not null default app.user_id(),
  title text not null,
  author text not null default '',
  status text not null default 'Wishlist',
  notes text not null default '',
  rating integer,
  started_on date,
  finished_on date,
  deleted boolean not null default false,
  version bigint not null default 0,
  field_versions jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint books_user_id_check check (char_length(user_id) between 1 and 255),
  constraint books_title_check
    check (char_length(title) between 1 and 500 and title ~ '[^[:space:]]'),
  constraint books_author_check check (char_length(author) <= 300),
  constraint books_status_check check (status in ('Wishlist', 'Reading', 'Finished')),
  constraint books_notes_check check (char_length(notes) <= 10000),
  constraint books_rating_check check (rating between 1 and 5),
  constraint books_dates_check
    check (finished_on is null or started_on is null or finished_on >= started_on),
  constraint books_field_versions_check check (jsonb_typeof(field_versions) = 'object')
);
comment on table public.books is 'A user''s reading list; rows are tombstoned (deleted), never removed by clients';
comment on column public.books.id is 'Client-generated UUIDv7, so books can be created offline';
comment on column public.books.version is 'Per-user commit-ordered version of the last change (sync_state.seq)';
comment on column public.books.field_versions is
  'field -> {"v": version that last changed it, "hlc": client stamp or null, "device": device id or null}';

-- Pull pages seek straight to the cursor: page k costs what page 1 costs.
create index books_user_version on public.books (user_id, version);

create table public.profiles (
  id text primary key default app.user_id(),
  email text,
  display_name text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint profiles_id_check check (char_length(id) between 1 and 255),
  constraint profiles_email_check check (char_length(email) <= 320),
  constraint profiles_display_name_check check (char_length(display_name) <= 200)
);
comment on table public.profiles is 'One row per user, keyed by the Clerk user id; the app upserts its own row after sign-in';

create table public.sync_ledger (
  user_id text not null default app.user_id(),
  device_id uuid not null,
  last_mutation_id uuid,
  last_results jsonb not null default '{}'::jsonb,
  updated_at timestamptz not null default now(),
  primary key (user_id, device_id)
);
comment on table public.sync_ledger is
  'Per (user, device): the last mutation id sync_push processed, so a retried batch is answered "duplicate"';
comment on column public.sync_ledger.last_results is
  'mutation id -> result of the most recent batch, echoed as "original" when a retry repeats it';

-- ---------------------------------------------------------------------------------------------
-- Triggers

-- Takes the user's row lock in sync_state (held until commit) and returns the next version.
-- Security definer: clients may read their counter but never write it.
create function app.next_version(owner text) returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v bigint;
begin
  if app.user_id() is not null and owner is distinct from app.user_id() then
    raise exception 'only the signed-in user''s versions can be taken' using errcode = '42501';
  end if;
  update public.sync_state set seq = seq + 1 where user_id = owner returning seq into v;
  if not found then
    insert into public.sync_state as s (user_id, seq) values (owner, 1)
    on conflict (user_id) do update set seq = s.seq + 1
    returning seq into v;
  end if;
  return v;
end
$$;

-- Locks the user's counter row without bumping it. sync_push calls this first, so pushes of one
-- user queue up before they lock any book (no lock-order deadlock between two devices).
create function app.lock_versions(owner text) returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v bigint;
begin
  if app.user_id() is not null and owner is distinct from app.user_id() then
    raise exception 'only the signed-in user''s versions can be taken' using errcode = '42501';
  end if;
  insert into public.sync_state (user_id, seq) values (owner, 0) on conflict (user_id) do nothing;
  select seq into v from public.sync_state where user_id = owner for update;
  return v;
end
$$;

-- Stamps every write to books: server timestamps, the next version, and field_versions.
-- A pending stamp ({"v": null, "hlc": …, "device": …}, written by sync_push) gets the new
-- version and a clamped HLC; any other changed field (a direct REST write, an admin edit) gets
-- the new version and no HLC. What else a client puts in field_versions is ignored.
create function app.stamp_book() returns trigger
language plpgsql volatile
set search_path = ''
as $$
declare
  caller text := app.user_id();
  v bigint;
  f text;
  stamp jsonb;
  hlc text;
  old_fv jsonb := '{}'::jsonb;
  fv jsonb := '{}'::jsonb;
  newj jsonb := to_jsonb(new);
  oldj jsonb := '{}'::jsonb;
begin
  if tg_op = 'UPDATE' then
    if new.id <> old.id or new.user_id <> old.user_id then
      raise exception 'a book''s id and owner never change'
        using errcode = '42501', hint = 'create a new book instead';
    end if;
    oldj := to_jsonb(old);
    old_fv := old.field_versions;
    new.created_at := old.created_at;
  else
    new.created_at := now();
  end if;
  -- No verified user and no owner: refuse as unauthorised (not as a NOT NULL failure).
  if new.user_id is null then
    raise exception 'a book needs a signed-in owner (a verified token with a sub claim)'
      using errcode = '42501';
  end if;
  -- Refuse a forged owner before touching anyone's counter (RLS would refuse it after).
  if caller is not null and new.user_id is distinct from caller then
    raise exception 'new row violates row-level security policy for table "books"'
      using errcode = '42501', detail = 'user_id must be the signed-in user';
  end if;

  v := app.next_version(new.user_id);
  new.version := v;
  new.updated_at := now();

  foreach f in array app.book_fields() loop
    stamp := new.field_versions -> f;
    if jsonb_typeof(stamp) = 'object' and stamp -> 'v' = 'null'::jsonb then
      hlc := app.clamp_hlc(stamp ->> 'hlc');
      fv := fv || jsonb_build_object(f, jsonb_build_object(
        'v', v,
        'hlc', hlc,
        'device', case when hlc is null then null else stamp -> 'device' end));
    elsif tg_op = 'INSERT' or newj -> f is distinct from oldj -> f then
      fv := fv || jsonb_build_object(f, jsonb_build_object('v', v, 'hlc', null, 'device', null));
    elsif old_fv ? f then
      fv := fv || jsonb_build_object(f, old_fv -> f);
    end if;
  end loop;
  new.field_versions := fv;
  return new;
end
$$;

create function app.stamp_profile() returns trigger
language plpgsql volatile
set search_path = ''
as $$
begin
  if new.id is null then
    raise exception 'a profile needs a signed-in owner (a verified token with a sub claim)'
      using errcode = '42501';
  end if;
  if tg_op = 'UPDATE' then
    if new.id <> old.id then
      raise exception 'a profile''s id never changes' using errcode = '42501';
    end if;
    new.created_at := old.created_at;
  else
    new.created_at := now();
  end if;
  new.updated_at := now();
  return new;
end
$$;

create function app.stamp_ledger() returns trigger
language plpgsql volatile
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- HLC helpers used by the trigger; sync_push (0002) uses them too. Defined here so the trigger
-- resolves them. Format and rules: see the header of 0002_sync.sql.
create function app.hlc_pattern() returns text
language sql immutable
set search_path = ''
as $$
  select '^([0-9]{13,16})-([0-9]{5,6})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$'
$$;

-- Largest step into the future (ms) a stamp may take beyond the server clock before it is clamped.
create function app.hlc_max_ahead_ms() returns bigint
language sql immutable
set search_path = ''
as $$
  select 300000::bigint
$$;

-- The stamp, with its milliseconds clamped to the server clock if they lie more than
-- hlc_max_ahead_ms in the future (width, counter and device kept); null if malformed.
create function app.clamp_hlc(stamp text) returns text
language plpgsql stable
set search_path = ''
as $$
declare
  parts text[] := regexp_match(stamp, app.hlc_pattern());
  now_ms bigint := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
begin
  if parts is null then
    return null;
  end if;
  if parts[1]::bigint > now_ms + app.hlc_max_ahead_ms() then
    return lpad(now_ms::text, char_length(parts[1]), '0') || '-' || parts[2] || '-' || parts[3];
  end if;
  return stamp;
end
$$;

create trigger books_stamp before insert or update on public.books
  for each row execute function app.stamp_book();
create trigger profiles_stamp before insert or update on public.profiles
  for each row execute function app.stamp_profile();
create trigger sync_ledger_stamp before insert or update on public.sync_ledger
  for each row execute function app.stamp_ledger();

-- ---------------------------------------------------------------------------------------------
-- Row Level Security: enabled and forced everywhere, per-verb policies on the verified sub, and
-- no delete policy for clients.

alter table public.books enable row level security;
alter table public.books force row level security;
alter table public.profiles enable row level security;
alter table public.profiles force row level security;
alter table public.sync_state enable row level security;
alter table public.sync_state force row level security;
alter table public.sync_ledger enable row level security;
alter table public.sync_ledger force row level security;

create policy books_select on public.books for select to anon, authenticated
  using (user_id = app.user_id());
create policy books_insert on public.books for insert to anon, authenticated
  with check (user_id = app.user_id());
create policy books_update on public.books for update to anon, authenticated
  using (user_id = app.user_id()) with check (user_id = app.user_id());

create policy profiles_select on public.profiles for select to anon, authenticated
  using (id = app.user_id());
create policy profiles_insert on public.profiles for insert to anon, authenticated
  with check (id = app.user_id());
create policy profiles_update on public.profiles for update to anon, authenticated
  using (id = app.user_id()) with check (id = app.user_id());

create policy sync_ledger_select on public.sync_ledger for select to anon, authenticated
  using (user_id = app.user_id());
create policy sync_ledger_insert on public.sync_ledger for insert to anon, authenticated
  with check (user_id = app.user_id());
create policy sync_ledger_update on public.sync_ledger for update to anon, authenticated
  using (user_id = app.user_id()) with check (user_id = app.user_id());

-- Clients read their own counter. The definer functions above write it; this policy (to public)
-- also covers their owner where the owner is not exempt from RLS.
create policy sync_state_select on public.sync_state for select to anon, authenticated
  using (user_id = app.user_id());
create policy sync_state_owner_write on public.sync_state for all to public
  using (user_id = app.user_id() or app.user_id() is null)
  with check (user_id = app.user_id() or app.user_id() is null);

-- ---------------------------------------------------------------------------------------------
-- Grants. Supabase's default privileges give anon and authenticated ALL (TRUNCATE included) on
-- new tables: take that back and grant exactly what the policies above are for.

revoke all on table public.books, public.profiles, public.sync_state, public.sync_ledger
  from anon, authenticated;
grant select, insert, update on table public.books, public.profiles, public.sync_ledger
  to anon, authenticated;
grant select on table public.sync_state to anon, authenticated;
grant all on table public.books, public.profiles, public.sync_state, public.sync_ledger
  to service_role;

revoke all on all functions in schema app from public;
grant execute on all functions in schema app to anon, authenticated, service_role;
