-- 0003_lockdown.sql: nobody without a verified `sub` sees or locks anything, every policy reads
-- the claim once per statement, and `books` refuses every value the app refuses.
--
-- Applies after 0001 and 0002 (never edit those: they have shipped), unchanged on hosted
-- Supabase and on the local stack, in one transaction (`psql -1`, or the Supabase CLI).
--
-- ## Who may write without a `sub`
--
-- A request without a verified `sub` (no token, or the publishable key alone) runs as `anon` or
-- `authenticated` with no claims. Before this file, `sync_state`'s owner policy (`… OR
-- app.user_id() IS NULL`) let such a request list every user's id and counter, and an insert
-- into `books` naming another user's id took that user's counter lock in the stamping trigger
-- before RLS refused the row. Now:
--   * `sync_state` is readable only by its own user; the only write policy is for the role that
--     ran this migration (the table owner, whose security-definer functions keep the counters);
--   * the trigger and the counter functions refuse a caller without a `sub` unless the caller's
--     role is trusted (`app.trusted_writer()`: a superuser or a role that bypasses RLS, i.e.
--     `postgres`, `service_role`, pg_cron jobs), before touching any counter.
--
-- ## Policies read the claim once per statement
--
-- Every policy compares with `(select app.user_id())`: PostgreSQL evaluates the sub-select once
-- per statement as an InitPlan (`EXPLAIN` shows `InitPlan 1` and `user_id = $0` in the index
-- condition) instead of calling the function, which carries `SET search_path` and so can never
-- be inlined, once per row.
--
-- ## The server refuses what no client can read
--
-- The app's rules (crates/core/src/validate.rs) become constraints on `books`, so no client of
-- any kind (ours, an older one, a script with a token and `PATCH /books`) can store a value the
-- app refuses. The server stores the canonical form the app writes:
--   title      1–500 characters (0001), not blank (0001), no control character (Unicode Cc:
--              U+0000–U+001F, U+007F–U+009F) and no white space at either end (Rust's `trim`:
--              U+0020, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000;
--              the other White_Space characters are control characters already);
--   author     ≤ 300 characters (0001), the same form rules, may be empty;
--   notes      ≤ 10000 characters (0001), no control character but line feed and tab (the app
--              turns CR LF and CR into LF);
--   status     Wishlist | Reading | Finished (0001); rating 1–5 or none (0001);
--   dates      real calendar dates from 0001-01-01 to 9999-12-31 (the app accepts exactly the
--              4-digit years 0001–9999; `infinity`, `-infinity`, BC dates and 5-digit years are
--              refused), finished_on ≥ started_on (0001).
--
-- ## Rows stored before these rules: repair, then validate
--
-- Hosted data may already hold values the rules refuse (a `PATCH /books` with
-- `started_on = 'infinity'` was accepted until now, and such a row stops every client's pull).
-- This migration repairs them first and then adds the constraints fully validated, rather than
-- adding them NOT VALID and leaving the rows: a NOT VALID constraint still checks every later
-- update of the row, so the owner could not even change the notes of such a book, and every
-- client would keep failing to read it. The repair is the nearest value the app accepts: text
-- loses its control characters (turned into spaces; in notes removed, CR LF / CR become LF) and
-- its surrounding white space, a blank title becomes "Untitled", a date out of range becomes
-- empty. Each repaired row's previous values are kept in `app.book_repairs` (for the operator:
-- `select * from app.book_repairs`), and the repair goes through the stamping trigger, so every
-- repaired row gets a new version and every device pulls the repaired values.

-- ---------------------------------------------------------------------------------------------
-- Who is trusted without a `sub`

-- The role a request runs as: the `SET ROLE` of PostgREST (anon, authenticated, service_role),
-- or the login role when none was set (postgres in a migration or a pg_cron job). Read from the
-- `role` setting, so it is the caller's role even inside a security-definer function.
create function app.request_role() returns text
language sql stable
set search_path = ''
as $$
  select case when pg_catalog.current_setting('role') = 'none' then session_user::text
              else pg_catalog.current_setting('role') end
$$;

-- Whether the request's role may write rows without a verified `sub`: a superuser, a role that
-- bypasses RLS (postgres and service_role on Supabase) or the tables' owner; never anon or
-- authenticated.
create function app.trusted_writer() returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce((select r.rolsuper or r.rolbypassrls
                          or pg_catalog.pg_has_role(r.oid, c.relowner, 'MEMBER')
                     from pg_catalog.pg_roles as r, pg_catalog.pg_class as c
                    where r.rolname = app.request_role()
                      and c.oid = 'public.books'::pg_catalog.regclass), false)
$$;

-- Refuses (42501) a caller that has no verified `sub` and is not trusted, or that acts for
-- another user. Called before any counter is touched.
create function app.check_owner(owner text) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  caller text := app.user_id();
begin
  if caller is null then
    if not app.trusted_writer() then
      raise exception 'a signed-in user is required (a verified token with a sub claim)'
        using errcode = '42501';
    end if;
  elsif owner is distinct from caller then
    raise exception 'only the signed-in user''s versions can be taken' using errcode = '42501';
  end if;
  if owner is null then
    raise exception 'a book needs a signed-in owner (a verified token with a sub claim)'
      using errcode = '42501';
  end if;
end
$$;

create or replace function app.next_version(owner text) returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v bigint;
begin
  perform app.check_owner(owner);
  update public.sync_state set seq = seq + 1 where user_id = owner returning seq into v;
  if not found then
    insert into public.sync_state as s (user_id, seq) values (owner, 1)
    on conflict (user_id) do update set seq = s.seq + 1
    returning seq into v;
  end if;
  return v;
end
$$;

create or replace function app.lock_versions(owner text) returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  v bigint;
begin
  perform app.check_owner(owner);
  insert into public.sync_state (user_id, seq) values (owner, 0) on conflict (user_id) do nothing;
  select seq into v from public.sync_state where user_id = owner for update;
  return v;
end
$$;

-- The stamping trigger of 0001, now refusing a caller without a `sub` (unless trusted) and a
-- forged owner before it takes any counter. 0004 replaces it again (the per-row HLC column).
create or replace function app.stamp_book() returns trigger
language plpgsql volatile
set search_path = ''
as $$
declare
  v bigint;
  f text;
  stamp jsonb;
  hlc text;
  old_fv jsonb := '{}'::jsonb;
  fv jsonb := '{}'::jsonb;
  newj jsonb;
  oldj jsonb := '{}'::jsonb;
begin
  if tg_op = 'UPDATE' then
    if new.id <> old.id or new.user_id <> old.user_id then
      raise exception 'a book''s id and owner never change'
        using errcode = '42501', hint = 'create a new book instead';
    end if;
  end if;
  if new.user_id is distinct from app.user_id() and app.user_id() is not null then
    raise exception 'new row violates row-level security policy for table "books"'
      using errcode = '42501', detail = 'user_id must be the signed-in user';
  end if;
  perform app.check_owner(new.user_id);

  newj := to_jsonb(new);
  if tg_op = 'UPDATE' then
    oldj := to_jsonb(old);
    old_fv := old.field_versions;
    new.created_at := old.created_at;
  else
    new.created_at := now();
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

-- ---------------------------------------------------------------------------------------------
-- Policies: the claim once per statement; sync_state for its own user only.

drop policy books_select on public.books;
drop policy books_insert on public.books;
drop policy books_update on public.books;
create policy books_select on public.books for select to anon, authenticated
  using (user_id = (select app.user_id()));
create policy books_insert on public.books for insert to anon, authenticated
  with check (user_id = (select app.user_id()));
create policy books_update on public.books for update to anon, authenticated
  using (user_id = (select app.user_id())) with check (user_id = (select app.user_id()));

drop policy profiles_select on public.profiles;
drop policy profiles_insert on public.profiles;
drop policy profiles_update on public.profiles;
create policy profiles_select on public.profiles for select to anon, authenticated
  using (id = (select app.user_id()));
create policy profiles_insert on public.profiles for insert to anon, authenticated
  with check (id = (select app.user_id()));
create policy profiles_update on public.profiles for update to anon, authenticated
  using (id = (select app.user_id())) with check (id = (select app.user_id()));

drop policy sync_ledger_select on public.sync_ledger;
drop policy sync_ledger_insert on public.sync_ledger;
drop policy sync_ledger_update on public.sync_ledger;
create policy sync_ledger_select on public.sync_ledger for select to anon, authenticated
  using (user_id = (select app.user_id()));
create policy sync_ledger_insert on public.sync_ledger for insert to anon, authenticated
  with check (user_id = (select app.user_id()));
create policy sync_ledger_update on public.sync_ledger for update to anon, authenticated
  using (user_id = (select app.user_id())) with check (user_id = (select app.user_id()));

drop policy sync_state_select on public.sync_state;
drop policy sync_state_owner_write on public.sync_state;
create policy sync_state_select on public.sync_state for select to anon, authenticated
  using (user_id = (select app.user_id()));
-- The counters are written only by the security-definer functions above, which run as the role
-- that owns them: this migration's role (postgres on hosted Supabase). That role bypasses RLS on
-- Supabase; the policy keeps it working where it does not (plain PostgreSQL, FORCE RLS).
do $$
begin
  execute format(
    'create policy sync_state_owner_write on public.sync_state for all to %I using (true) with check (true)',
    current_user);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Repair rows stored before the new rules, keeping what they held.

create table app.book_repairs (
  id uuid not null,
  user_id text not null,
  repaired_at timestamptz not null default now(),
  original jsonb not null
);
comment on table app.book_repairs is
  'Rows of books that 0003_lockdown.sql repaired to the app''s rules, with their previous values';
revoke all on table app.book_repairs from public, anon, authenticated;

-- Text with control characters replaced by spaces and the app's white space trimmed.
create function pg_temp.one_line(t text) returns text
language sql immutable
as $$
  select regexp_replace(
           regexp_replace(t, '[\u0001-\u001f\u007f-\u009f]', ' ', 'g'),
           '^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$',
           '', 'g')
$$;

-- Every row the new rules refuse (the same conditions as the constraints below).
create temporary table bad_books on commit drop as
select b.id
  from public.books as b
 where b.title ~ '[\u0001-\u001f\u007f-\u009f]'
    or b.title ~ '^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'
    or b.author ~ '[\u0001-\u001f\u007f-\u009f]'
    or b.author ~ '^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'
    or b.notes ~ '[\u0001-\u0008\u000b-\u001f\u007f-\u009f]'
    or not coalesce(b.started_on between date '0001-01-01' and date '9999-12-31', true)
    or not coalesce(b.finished_on between date '0001-01-01' and date '9999-12-31', true);

-- The table owner is exempt from RLS unless it is forced; lift the force for the repair only
-- (on Supabase the owner bypasses RLS anyway).
alter table public.books no force row level security;

insert into app.book_repairs (id, user_id, original)
select b.id, b.user_id, to_jsonb(b) from public.books as b where b.id in (select id from bad_books);

update public.books as b
   set title = coalesce(nullif(left(pg_temp.one_line(b.title), 500), ''), 'Untitled'),
       author = left(pg_temp.one_line(b.author), 300),
       notes = left(regexp_replace(replace(replace(b.notes, e'\r\n', e'\n'), e'\r', e'\n'),
                                   '[\u0001-\u0008\u000b-\u001f\u007f-\u009f]', '', 'g'), 10000),
       started_on = case when b.started_on between date '0001-01-01' and date '9999-12-31'
                         then b.started_on end,
       finished_on = case when b.finished_on between date '0001-01-01' and date '9999-12-31'
                          then b.finished_on end
 where b.id in (select id from bad_books);

alter table public.books force row level security;

-- ---------------------------------------------------------------------------------------------
-- The app's rules as constraints (validated: every row above now satisfies them).

alter table public.books
  add constraint books_title_form_check
    check (title !~ '[\u0001-\u001f\u007f-\u009f]'
           and title !~ '^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'),
  add constraint books_author_form_check
    check (author !~ '[\u0001-\u001f\u007f-\u009f]'
           and author !~ '^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'),
  add constraint books_notes_form_check
    check (notes !~ '[\u0001-\u0008\u000b-\u001f\u007f-\u009f]'),
  add constraint books_started_on_check
    check (started_on between date '0001-01-01' and date '9999-12-31'),
  add constraint books_finished_on_check
    check (finished_on between date '0001-01-01' and date '9999-12-31');

-- ---------------------------------------------------------------------------------------------
-- Grants for the new functions (the owner keeps its own).

revoke all on function app.request_role(), app.trusted_writer(), app.check_owner(text)
  from public;
grant execute on function app.request_role(), app.trusted_writer(), app.check_owner(text)
  to anon, authenticated, service_role;
