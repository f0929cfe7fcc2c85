-- 0004_sync_v2.sql: a set-based push with bounded requests and answers, deletes that never come
-- back, tombstone purging, and a pull PostgREST runs as its own keyset read.
--
-- Applies after 0003, unchanged on hosted Supabase and on the local stack, in one transaction.
-- The wire format of 0002 (stamps, mutation shape, conflict rules) holds unless said below.
--
-- ## Pull: GET /sync_state, then GET /sync_rows pages (new clients)
--
--   GET /sync_state?select=seq,purged_through
--     -> [{"seq": T, "purged_through": P}] (or [] before the user's first write: T = P = 0).
--     T is the user's version counter (every version <= T is committed), P the highest version a
--     purged tombstone had (see "Purge" below).
--   GET /sync_rows?select=<columns>&version=gt.<cursor>&order=version&limit=1000
--     -> rows in version order, each {id, title, author, status, notes, rating, started_on,
--        finished_on, deleted, version, hlc, created_at, updated_at}: only what a client uses.
--        `hlc` is the latest stamp of any field of the row (clients advance their clock past
--        it); the per-field stamps (`field_versions`) stay on the server, where conflicts are
--        decided. Pages hold at most 1000 rows (PostgREST's db-max-rows, as on hosted Supabase).
-- `sync_rows` is a plain view (security invoker: the caller's RLS applies), so PostgREST reads
-- it with its own query: one index scan of (user_id, version) from the cursor, the claim read
-- once (InitPlan), and PostgREST's json_agg over the rows, with no function in between.
--
-- A client keeps pulling after its cursor until a page is empty or reaches T, never stopping
-- because a page came back short. Versions of one user commit in order (0001), so a cursor on
-- `version` never skips a late commit.
--
-- ## Purge
--
-- Tombstones (deleted = true) older than a retention period are removed by
-- `app.purge_tombstones(older_than interval default '30 days', for_user text default null)`,
-- which the operator schedules (pg_cron on hosted Supabase: see docs/backend.md). For each
-- user it raises `sync_state.purged_through` to the highest version it removed, in the same
-- transaction. A client whose cursor is above 0 and below `purged_through` may have missed a
-- removed tombstone, so it downloads everything again from version 0, keeping its pending
-- edits, and drops the synced books the server no longer sent. Because a purge can commit while
-- a client pages, a client compares its starting cursor with `purged_through` read again after
-- its last page. Ledger rows (below) of devices silent for the same period go with it.
--
-- ## sync_push(device_id uuid, mutations jsonb) -> jsonb
--
-- Bounds: at most 1000 mutations and 2 MiB (PostgreSQL's size of the `mutations` value) per
-- call; more fails the call with SQLSTATE 22023 (HTTP 400), nothing written. Clients split
-- their queue into calls under both.
--
-- Results, one per mutation, in order, each {mutation_id, book_id, result, …}:
--   applied    {version}: every patched field applied (or equalled the server's value);
--   conflict   {version, conflicts: [{field, server_value, server_hlc, server_version, winner,
--              client_value (only for field "deleted")}]}: as 0002, but the client's own value
--              is never echoed back (it sent it); clients fill it from their patch;
--   rejected   {code, message}: refused by a rule; the message quotes at most 40 characters of
--              the refused value; codes check_violation, invalid_value, missing_field, id_taken,
--              forbidden, error;
--   gone       (new): `base_version` is set but the book is not on the server (its tombstone was
--              purged, or it was never this user's): nothing is written and the book is NOT
--              re-created. A client acknowledges a delete answered `gone`; any other change
--              answered `gone` is kept for the user, never dropped silently;
--   duplicate  {original?}: as 0002. The ledger keeps answers compact (no values); `original`'s
--              conflicts get `server_value` from the book as it is now.
-- Dates in a patch must be real `YYYY-MM-DD` dates from 0001-01-01 to 9999-12-31, else the
-- mutation is rejected with invalid_value (0002 let PostgreSQL's date parser accept `infinity`,
-- `20240101`, `today`).
--
-- How: under the user's version lock, the batch is applied with a few set-based statements
-- (the shape checked over jsonb_array_elements, duplicates against the ledger, the current rows
-- locked and conflicts decided in one join, every rule checked before writing, versions
-- reserved once, one UPDATE and one INSERT, all stamps written by the push itself). A batch
-- that names one book twice, or that hits an unexpected error, is applied one mutation at a
-- time in savepoints instead, so every mutation still gets its own answer. Lock trouble,
-- cancellation (statement timeout: 57014) and resource errors fail the call: the client retries
-- it, with a smaller batch after a timeout.
--
-- Ledger: per (user, device) the last mutation id and the compact answers of the last batch;
-- at most 50 devices per user (device ids are chosen by clients): a new device beyond that
-- replaces the one silent the longest.
--
-- ## sync_pull(after, max) (0002, kept for clients released before this file)
--
-- Same answer as 0002 plus `purged_through`; new clients use the keyset read above.

-- Helpers the push evaluates per row are plain SQL functions without `SET search_path`, so the
-- planner inlines them into the set-based statements (a function with SET is a call per row:
-- ~85 µs each here, most of the push's time). Every name in them is schema-qualified, and the
-- operators they use resolve in pg_catalog, which PostgreSQL searches first.

-- ---------------------------------------------------------------------------------------------
-- Columns

alter table public.books add column hlc text;
comment on column public.books.hlc is
  'The latest HLC stamp of any field (what clients need of field_versions); null if none';
alter table public.sync_state add column purged_through bigint not null default 0
  check (purged_through >= 0);
comment on column public.sync_state.purged_through is
  'Highest version of a purged tombstone: a client whose cursor is below it downloads everything again';

-- Tombstones by age, for the purge.
create index books_tombstones on public.books (updated_at) where deleted;

-- ---------------------------------------------------------------------------------------------
-- Stamps

-- The later of two stamps (either may be null). Same-width stamps compare as text (byte
-- order); otherwise app.hlc_after parses them.
create function app.later_hlc(a text, b text) returns text
language sql immutable
as $$
  select case
    when a is null then b
    when b is null then a
    when pg_catalog.char_length(a) = pg_catalog.char_length(b)
      then case when a collate "C" > b collate "C" then a else b end
    when app.hlc_after(a, b) then a
    else b
  end
$$;

-- A well-formed stamp with its milliseconds clamped to `now_ms` + hlc_max_ahead_ms (the stamp
-- must already match app.hlc_pattern()).
create function app.clamp_hlc_at(stamp text, now_ms bigint) returns text
language sql immutable
as $$
  select case
    when pg_catalog.split_part(stamp, '-', 1)::bigint > now_ms + app.hlc_max_ahead_ms()
      then pg_catalog.lpad(now_ms::text, pg_catalog.char_length(pg_catalog.split_part(stamp, '-', 1)), '0')
           || pg_catalog.substr(stamp, pg_catalog.char_length(pg_catalog.split_part(stamp, '-', 1)) + 1)
    else stamp
  end
$$;

-- 0001/0002's small helpers, called per element by the shape check: inlinable too.
alter function app.hlc_pattern() reset search_path;
alter function app.is_uuid_text(jsonb) reset search_path;

-- Backfill the new column from field_versions (trigger off: nothing else changes).
alter table public.books no force row level security;
alter table public.books disable trigger books_stamp;
update public.books as b
   set hlc = (select s from (select f.value ->> 'hlc' as s
                               from jsonb_each(b.field_versions) as f) as x
               where x.s ~ app.hlc_pattern()
               order by (select (m[1]::bigint, m[2]::integer, m[3])
                           from regexp_match(x.s, app.hlc_pattern()) as m) desc
               limit 1);
alter table public.books enable trigger books_stamp;
alter table public.books force row level security;

-- ---------------------------------------------------------------------------------------------
-- The rules, as the push checks them before writing (the same as the constraints of 0001/0003,
-- which stay the last word: a write they refuse falls back to the per-mutation path).

-- A value for a message: at most 40 characters, JSON-quoted.
create function app.shown(v text) returns text
language sql immutable
as $$
  select pg_catalog.to_jsonb(case when pg_catalog.char_length(v) > 40
                                  then pg_catalog.left(v, 40) || '…' else v end)::text
$$;

-- Whether `s` is a real calendar date written YYYY-MM-DD, from 0001-01-01 to 9999-12-31.
create function app.date_text_ok(s text) returns boolean
language sql immutable
as $$
  select case
    when s is null then true
    when s !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then false
    when pg_catalog.substr(s, 1, 4)::integer < 1 then false
    when pg_catalog.substr(s, 6, 2)::integer not between 1 and 12 then false
    else pg_catalog.substr(s, 9, 2)::integer between 1 and pg_catalog.date_part('day',
           pg_catalog.make_date(pg_catalog.substr(s, 1, 4)::integer, pg_catalog.substr(s, 6, 2)::integer, 1)
           + interval '1 month - 1 day')::integer
  end
$$;

-- The first rule a book's values break, as the constraint's name; null if none.
create function app.broken_rule(title text, author text, status text, notes text, rating integer,
                                started_on date, finished_on date) returns text
language sql immutable
as $$
  select case
    when title is null then 'title_missing'
    when not (pg_catalog.char_length(title) between 1 and 500 and title ~ '[^[:space:]]')
      then 'books_title_check'
    when title ~ '[\u0001-\u001f\u007f-\u009f]'
      or title ~ '^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'
      then 'books_title_form_check'
    when pg_catalog.char_length(author) > 300 then 'books_author_check'
    when author ~ '[\u0001-\u001f\u007f-\u009f]'
      or author ~ '^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'
      then 'books_author_form_check'
    when status is null or status not in ('Wishlist', 'Reading', 'Finished') then 'books_status_check'
    when pg_catalog.char_length(notes) > 10000 then 'books_notes_check'
    when notes ~ '[\u0001-\u0008\u000b-\u001f\u007f-\u009f]' then 'books_notes_form_check'
    when rating not between 1 and 5 then 'books_rating_check'
    when started_on not between date '0001-01-01' and date '9999-12-31' then 'books_started_on_check'
    when finished_on not between date '0001-01-01' and date '9999-12-31' then 'books_finished_on_check'
    when finished_on < started_on then 'books_dates_check'
  end
$$;

-- The rejection {code, message} for a broken rule (a constraint name), given the patch.
create function app.rule_rejection(rule text, p jsonb) returns jsonb
language sql immutable
as $$
  select case rule
    when 'title_missing' then pg_catalog.jsonb_build_object('code', 'missing_field',
      'message', 'a new book needs a title')
    else pg_catalog.jsonb_build_object('code', 'check_violation', 'message', case rule
      when 'books_title_check' then pg_catalog.format(
        'title must be 1 to 500 characters and not blank (got %s characters)',
        coalesce(pg_catalog.char_length(p ->> 'title'), 0))
      when 'books_title_form_check' then
        'title must not contain control characters (line breaks, tabs) nor begin or end with spaces'
      when 'books_author_check' then pg_catalog.format(
        'author must be at most 300 characters (got %s)', pg_catalog.char_length(p ->> 'author'))
      when 'books_author_form_check' then
        'author must not contain control characters (line breaks, tabs) nor begin or end with spaces'
      when 'books_notes_check' then pg_catalog.format(
        'notes must be at most 10000 characters (got %s)', pg_catalog.char_length(p ->> 'notes'))
      when 'books_notes_form_check' then
        'notes must not contain control characters other than line breaks and tabs'
      when 'books_status_check' then pg_catalog.format(
        'unknown status %s: status must be Wishlist, Reading or Finished', pg_catalog.left(p ->> 'status', 40))
      when 'books_rating_check' then pg_catalog.format(
        'rating must be a whole number from 1 to 5 (got %s)', app.shown(p ->> 'rating'))
      when 'books_started_on_check' then
        'started_on must be a date from 0001-01-01 to 9999-12-31'
      when 'books_finished_on_check' then
        'finished_on must be a date from 0001-01-01 to 9999-12-31'
      when 'books_dates_check' then 'finished_on must not be before started_on'
      else pg_catalog.left(coalesce(rule, 'refused'), 200)
    end)
  end
$$;

-- The rejection for a patch whose date text is not a real YYYY-MM-DD date; null if both are.
create function app.date_rejection(p jsonb) returns jsonb
language sql immutable
as $$
  select case
    when not app.date_text_ok(p ->> 'started_on') then pg_catalog.jsonb_build_object(
      'code', 'invalid_value', 'message', pg_catalog.format(
        'started_on must be a real date written YYYY-MM-DD, from 0001-01-01 to 9999-12-31 (got %s)',
        app.shown(p ->> 'started_on')))
    when not app.date_text_ok(p ->> 'finished_on') then pg_catalog.jsonb_build_object(
      'code', 'invalid_value', 'message', pg_catalog.format(
        'finished_on must be a real date written YYYY-MM-DD, from 0001-01-01 to 9999-12-31 (got %s)',
        app.shown(p ->> 'finished_on')))
  end
$$;

-- The rejection for an error a mutation raised (the per-mutation path). Messages are bounded.
create or replace function app.rejection(state text, msg text, constraint_name text,
                                         column_name text, m jsonb)
returns jsonb
language sql immutable
set search_path = ''
as $$
  select case
    when state = '23514' then app.rule_rejection(constraint_name, m -> 'patch')
    when state = '23502' then pg_catalog.jsonb_build_object('code', 'missing_field', 'message',
      case when column_name = 'title' then 'a new book needs a title'
           else pg_catalog.format('%s is required', column_name) end)
    when state = '23505' then pg_catalog.jsonb_build_object('code', 'id_taken', 'message',
      'this book id is already used by another account; create the book again to get a new id')
    when state = '42501' then pg_catalog.jsonb_build_object('code', 'forbidden',
      'message', pg_catalog.left(msg, 300))
    when state like '22%' then pg_catalog.jsonb_build_object('code', 'invalid_value',
      'message', pg_catalog.left(msg, 300))
    else pg_catalog.jsonb_build_object('code', 'error', 'message', pg_catalog.left(msg, 300))
  end
$$;

-- One field of a book as JSON.
create function app.book_field(b public.books, f text) returns jsonb
language sql stable
as $$
  select case f
    when 'title' then pg_catalog.to_jsonb(b.title)
    when 'author' then pg_catalog.to_jsonb(b.author)
    when 'status' then pg_catalog.to_jsonb(b.status)
    when 'notes' then pg_catalog.to_jsonb(b.notes)
    when 'rating' then coalesce(pg_catalog.to_jsonb(b.rating), 'null'::jsonb)
    when 'started_on' then coalesce(pg_catalog.to_jsonb(b.started_on), 'null'::jsonb)
    when 'finished_on' then coalesce(pg_catalog.to_jsonb(b.finished_on), 'null'::jsonb)
    when 'deleted' then pg_catalog.to_jsonb(b.deleted)
  end
$$;

-- ---------------------------------------------------------------------------------------------
-- The batch's shape (0002's check_mutation as one expression per element)

-- What is wrong with the shape of mutation `m` (reported as `at`), or null.
create function app.mutation_problem(m jsonb, at text, dev uuid) returns text
language sql immutable
as $$
  select case
    when pg_catalog.jsonb_typeof(m) is distinct from 'object' then pg_catalog.format(
      '%s must be an object, got %s', at, coalesce(pg_catalog.jsonb_typeof(m), 'nothing'))
    when (m - '{mutation_id,book_id,base_version,hlc,patch}'::text[]) <> '{}'::jsonb then
      pg_catalog.format('%s has an unknown key %s (expected mutation_id, book_id, base_version, hlc, patch)',
        at, (select pg_catalog.to_jsonb(pg_catalog.left(k, 80)) from pg_catalog.jsonb_object_keys(m) as k
              where k not in ('mutation_id', 'book_id', 'base_version', 'hlc', 'patch') limit 1))
    when not app.is_uuid_text(m -> 'mutation_id') then pg_catalog.format(
      '%s.mutation_id must be a uuid string, got %s', at,
      coalesce(pg_catalog.left((m -> 'mutation_id')::text, 80), 'nothing'))
    when not app.is_uuid_text(m -> 'book_id') then pg_catalog.format(
      '%s.book_id must be a uuid string, got %s', at,
      coalesce(pg_catalog.left((m -> 'book_id')::text, 80), 'nothing'))
    when m -> 'base_version' is not null and m -> 'base_version' <> 'null'::jsonb
         and not (pg_catalog.jsonb_typeof(m -> 'base_version') = 'number'
                  and (m ->> 'base_version') ~ '^[0-9]{1,18}$') then pg_catalog.format(
      '%s.base_version must be a whole number >= 0 or null, got %s', at,
      pg_catalog.left((m -> 'base_version')::text, 80))
    when pg_catalog.jsonb_typeof(m -> 'hlc') is distinct from 'string'
         or (m ->> 'hlc') !~ app.hlc_pattern() then pg_catalog.format(
      '%s.hlc must be a stamp "<13-digit millis>-<6-digit counter>-<device uuid>", got %s', at,
      coalesce(pg_catalog.left((m -> 'hlc')::text, 80), 'nothing'))
    when pg_catalog.right(m ->> 'hlc', 36) <> dev::text then
      pg_catalog.format('%s.hlc was stamped by device %s, but this batch is from device %s', at,
        pg_catalog.right(m ->> 'hlc', 36), dev)
    when pg_catalog.jsonb_typeof(m -> 'patch') is distinct from 'object' then pg_catalog.format(
      '%s.patch must be an object of fields, got %s', at,
      coalesce(pg_catalog.jsonb_typeof(m -> 'patch'), 'nothing'))
    else (
      select case
        when f.k in ('title', 'author', 'status', 'notes') then pg_catalog.format(
          '%s.patch.%s must be a string, got %s', at, f.k, pg_catalog.left(f.v::text, 80))
        when f.k = 'rating' then pg_catalog.format(
          '%s.patch.rating must be a whole number or null, got %s', at, pg_catalog.left(f.v::text, 80))
        when f.k in ('started_on', 'finished_on') then pg_catalog.format(
          '%s.patch.%s must be a "YYYY-MM-DD" string or null, got %s', at, f.k,
          pg_catalog.left(f.v::text, 80))
        when f.k = 'deleted' then pg_catalog.format(
          '%s.patch.deleted must be true or false, got %s', at, pg_catalog.left(f.v::text, 80))
        else pg_catalog.format('%s.patch has an unknown field %s (expected one of %s)', at,
          pg_catalog.to_jsonb(pg_catalog.left(f.k, 80)),
          pg_catalog.array_to_string(app.book_fields(), ', '))
      end
      from pg_catalog.jsonb_each(m -> 'patch') as f(k, v)
      where case
        when f.k in ('title', 'author', 'status', 'notes') then pg_catalog.jsonb_typeof(f.v) <> 'string'
        when f.k = 'rating' then pg_catalog.jsonb_typeof(f.v) <> 'null'
          and not (pg_catalog.jsonb_typeof(f.v) = 'number' and (f.v #>> '{}') ~ '^-?[0-9]{1,9}$')
        when f.k in ('started_on', 'finished_on') then pg_catalog.jsonb_typeof(f.v) not in ('null', 'string')
        when f.k = 'deleted' then pg_catalog.jsonb_typeof(f.v) <> 'boolean'
        else true
      end
      limit 1)
  end
$$;

-- A mutation after its shape was checked.
create type app.push_mutation as (
  ord integer,
  mutation_id uuid,
  book_id uuid,
  base bigint,
  hlc text,
  patch jsonb
);

-- ---------------------------------------------------------------------------------------------
-- Stamping outside the push (direct REST writes, admin edits, the per-mutation path)

-- 0003's trigger, now also keeping `hlc` (clients cannot write it). The set-based push writes
-- every stamp itself and marks its own statements with the transaction-local setting
-- bookwish.stamped = on, which the trigger's WHEN skips (clients cannot set it: PostgREST sets
-- only request.* and response.* settings).
create or replace function app.stamp_book() returns trigger
language plpgsql volatile
set search_path = ''
as $$
declare
  v bigint;
  f text;
  stamp jsonb;
  hlc text;
  latest text;
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
    latest := old.hlc;
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
      latest := app.later_hlc(latest, hlc);
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
  new.hlc := latest;
  return new;
end
$$;

drop trigger books_stamp on public.books;
create trigger books_stamp before insert or update on public.books
  for each row
  when (pg_catalog.current_setting('bookwish.stamped', true) is distinct from 'on')
  execute function app.stamp_book();

-- ---------------------------------------------------------------------------------------------
-- Applying mutations (shape checked, user's version lock and ledger row held by the caller)

-- Takes `n` versions for `owner` at once (its row lock, already held by the push, stays until
-- commit) and returns the highest. Definer: clients read their counter but never write it.
create function app.reserve_versions(owner text, n integer) returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
declare
  top bigint;
begin
  perform app.check_owner(owner);
  update public.sync_state set seq = seq + n where user_id = owner returning seq into top;
  if not found then
    insert into public.sync_state as s (user_id, seq) values (owner, n)
    on conflict (user_id) do update set seq = s.seq + n
    returning seq into top;
  end if;
  return top;
end
$$;

-- What apply_batch decided for one mutation before writing.
create type app.push_plan as (
  ord integer,
  mutation_id uuid,
  book_id uuid,
  kind text,            -- create | update | noop | gone | rejected
  hlc text,
  win jsonb,            -- the fields to write
  conflicts jsonb,
  rejection jsonb,
  cur_version bigint,
  cur_fv jsonb,
  cur_hlc text,
  title text,
  author text,
  status text,
  notes text,
  rating integer,
  started_on date,
  finished_on date,
  deleted boolean
);

-- A result as the ledger keeps it: no ids, no values (conflicts keep field, winner, the
-- server's stamp and version, and the client's value only for "deleted").
create function app.compact_result(r jsonb) returns jsonb
language sql immutable
as $$
  select (r - 'mutation_id' - 'book_id' - 'original')
         || case when r ? 'conflicts' then pg_catalog.jsonb_build_object('conflicts', (
              select pg_catalog.jsonb_agg(c - 'server_value')
                from pg_catalog.jsonb_array_elements(r -> 'conflicts') as c))
            else '{}'::jsonb end
$$;

-- Applies `ms` (distinct books, increasing ids) for user `uid` from device `dev` with a few
-- set-based statements and returns one result per mutation, in order. Raises on anything
-- unexpected; the caller then falls back to one mutation at a time.
create function app.apply_batch(uid text, dev uuid, ms app.push_mutation[]) returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  plans app.push_plan[];
  n_writes integer;
  top bigint := 0;
  inserted uuid[] := '{}';
  results jsonb;
begin
  -- The current rows, locked, and each mutation's plan: conflicts decided field by field in one
  -- join, the merged values checked against every rule.
  with cur as materialized (
    select b as bk
      from public.books as b
     where b.id in (select m.book_id from unnest(ms) as m)
     order by b.id
       for update
  ),
  decided as (
    select m.ord, m.mutation_id, m.book_id, m.hlc, m.base, m.patch, c.bk,
           (c.bk).id is not null as found,
           app.date_rejection(m.patch) as bad_date,
           x.win, x.conflicts
      from unnest(ms) as m
      left join cur as c on (c.bk).id = m.book_id
      left join lateral (
        select coalesce(pg_catalog.jsonb_object_agg(f.k, f.cv) filter (where f.client_wins), '{}'::jsonb) as win,
               coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                          'field', f.k, 'server_value', f.sv, 'server_hlc', f.stamp -> 'hlc',
                          'server_version', f.stamp -> 'v',
                          'winner', case when f.client_wins then 'client' else 'server' end)
                        || case when f.k = 'deleted'
                                then pg_catalog.jsonb_build_object('client_value', f.cv)
                                else '{}'::jsonb end
                        order by f.k) filter (where f.conflict), '[]'::jsonb)
               || case
                    when (c.bk).deleted and not (m.patch ? 'deleted') and m.patch <> '{}'::jsonb
                         and (c.bk).field_versions -> 'deleted' is not null
                         and coalesce(((c.bk).field_versions -> 'deleted' ->> 'v')::bigint, 0) > coalesce(m.base, 0)
                         and ((c.bk).field_versions -> 'deleted' ->> 'device') is distinct from dev::text
                    then pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                           'field', 'deleted', 'server_value', true,
                           'server_hlc', (c.bk).field_versions -> 'deleted' -> 'hlc',
                           'server_version', (c.bk).field_versions -> 'deleted' -> 'v',
                           'client_value', false, 'winner', 'server'))
                    else '[]'::jsonb
                  end as conflicts
          from (
            select p.k, p.cv, p.sv, p.stamp, p.conflict,
                   case when not p.conflict then true
                        when p.k = 'deleted' then p.cv = 'true'::jsonb
                        else app.hlc_after(m.hlc, p.stamp ->> 'hlc') end as client_wins
              from (
                select e.key as k, e.value as cv, app.book_field(c.bk, e.key) as sv,
                       (c.bk).field_versions -> e.key as stamp,
                       (c.bk).field_versions -> e.key is not null
                       and coalesce(((c.bk).field_versions -> e.key ->> 'v')::bigint, 0) > coalesce(m.base, 0)
                       and ((c.bk).field_versions -> e.key ->> 'device') is distinct from dev::text
                       and app.book_field(c.bk, e.key) <> e.value as conflict
                  from pg_catalog.jsonb_each(m.patch) as e
              ) as p
          ) as f
      ) as x on (c.bk).id is not null
  ),
  valued as materialized (
    select d.*, w.w,
           case when w.w ? 'title' then w.w ->> 'title' else (d.bk).title end as v_title,
           case when w.w ? 'author' then w.w ->> 'author' else coalesce((d.bk).author, '') end as v_author,
           case when w.w ? 'status' then w.w ->> 'status' else coalesce((d.bk).status, 'Wishlist') end as v_status,
           case when w.w ? 'notes' then w.w ->> 'notes' else coalesce((d.bk).notes, '') end as v_notes,
           case when w.w ? 'rating' then (w.w ->> 'rating')::integer else (d.bk).rating end as v_rating,
           case when d.bad_date is not null then null
                when w.w ? 'started_on' then (w.w ->> 'started_on')::date
                else (d.bk).started_on end as v_started,
           case when d.bad_date is not null then null
                when w.w ? 'finished_on' then (w.w ->> 'finished_on')::date
                else (d.bk).finished_on end as v_finished,
           case when w.w ? 'deleted' then (w.w ->> 'deleted')::boolean
                else coalesce((d.bk).deleted, false) end as v_deleted
      from decided as d,
           lateral (select case when d.found then d.win else d.patch end as w) as w
  ),
  ruled as materialized (
    select v.*, app.broken_rule(v.v_title, v.v_author, v.v_status, v.v_notes, v.v_rating,
                                v.v_started, v.v_finished) as rule
      from valued as v
  )
  select array_agg(row(
           r.ord, r.mutation_id, r.book_id,
           case
             when not r.found and r.base is not null then 'gone'
             when r.bad_date is not null or r.rule is not null then 'rejected'
             when not r.found then 'create'
             when r.w = '{}'::jsonb then 'noop'
             else 'update'
           end,
           r.hlc, r.w, coalesce(r.conflicts, '[]'::jsonb),
           coalesce(r.bad_date, case when r.rule is not null then app.rule_rejection(r.rule, r.patch) end),
           (r.bk).version, (r.bk).field_versions, (r.bk).hlc,
           r.v_title, r.v_author, r.v_status, r.v_notes, r.v_rating, r.v_started, r.v_finished,
           r.v_deleted)::app.push_plan order by r.ord)
    into plans
    from ruled as r;

  -- Versions, reserved once, in batch order; then one UPDATE and one INSERT that write every
  -- stamp themselves (the trigger skips statements marked bookwish.stamped).
  select count(*) into n_writes from unnest(plans) as p where p.kind in ('create', 'update');
  if n_writes > 0 then
    top := app.reserve_versions(uid, n_writes);
    perform pg_catalog.set_config('bookwish.stamped', 'on', true);

    update public.books as b
       set title = w.title, author = w.author, status = w.status, notes = w.notes,
           rating = w.rating, started_on = w.started_on, finished_on = w.finished_on,
           deleted = w.deleted, version = w.version, updated_at = now(),
           field_versions = w.cur_fv || (
             select pg_catalog.jsonb_object_agg(k, pg_catalog.jsonb_build_object(
                      'v', w.version, 'hlc', w.hlc, 'device', dev))
               from pg_catalog.jsonb_object_keys(w.win) as k),
           hlc = app.later_hlc(w.cur_hlc, w.hlc)
      from (select p.*, top - n_writes + row_number() over (order by p.ord) as version
              from unnest(plans) as p
             where p.kind in ('create', 'update')) as w
     where w.kind = 'update' and b.id = w.book_id;

    with ins as (
      insert into public.books as b (id, user_id, title, author, status, notes, rating,
                                     started_on, finished_on, deleted, version, field_versions,
                                     hlc, created_at, updated_at)
      select w.book_id, uid, w.title, w.author, w.status, w.notes, w.rating, w.started_on,
             w.finished_on, w.deleted, w.version,
             (select pg_catalog.jsonb_object_agg(f, pg_catalog.jsonb_build_object(
                       'v', w.version, 'hlc', w.hlc, 'device', dev))
                from unnest(app.book_fields()) as f),
             w.hlc, now(), now()
        from (select p.*, top - n_writes + row_number() over (order by p.ord) as version
                from unnest(plans) as p
               where p.kind in ('create', 'update')) as w
       where w.kind = 'create'
       order by w.ord
      on conflict (id) do nothing
      returning b.id
    )
    select coalesce(array_agg(ins.id), '{}') into inserted from ins;
    perform pg_catalog.set_config('bookwish.stamped', 'off', true);
  end if;

  -- One answer per mutation, in order. A create whose id another account already uses wrote
  -- nothing (its reserved version stays unused).
  select coalesce(pg_catalog.jsonb_agg(
           pg_catalog.jsonb_build_object('mutation_id', p.mutation_id, 'book_id', p.book_id)
           || case
                when p.kind = 'gone' then '{"result": "gone"}'::jsonb
                when p.kind = 'rejected' then pg_catalog.jsonb_build_object('result', 'rejected') || p.rejection
                when p.kind = 'create' and p.book_id <> all (inserted) then
                  pg_catalog.jsonb_build_object('result', 'rejected')
                  || app.rejection('23505', null, null, null, null)
                else pg_catalog.jsonb_build_object(
                       'result', case when p.conflicts = '[]'::jsonb then 'applied' else 'conflict' end,
                       'version', coalesce(w.version, p.cur_version))
                     || case when p.conflicts = '[]'::jsonb then '{}'::jsonb
                             else pg_catalog.jsonb_build_object('conflicts', p.conflicts) end
              end
           order by p.ord), '[]'::jsonb)
    into results
    from unnest(plans) as p
    left join (select q.ord, top - n_writes + row_number() over (order by q.ord) as version
                 from unnest(plans) as q
                where q.kind in ('create', 'update')) as w on w.ord = p.ord;
  return results;
end
$$;

-- At most 50 ledger rows per user (device ids are chosen by clients): the devices silent the
-- longest make room. Definer: clients may not delete ledger rows themselves.
create function app.prune_ledger(owner text) returns void
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  perform app.check_owner(owner);
  delete from public.sync_ledger as l
   where l.user_id = owner
     and l.device_id in (select o.device_id from public.sync_ledger as o
                          where o.user_id = owner
                          order by o.updated_at desc, o.device_id
                         offset 50);
end
$$;

-- 0002's per-mutation functions: apply_batch and mutation_problem replace them.
drop function app.apply_mutation(uuid, jsonb);
drop function app.check_mutation(jsonb, integer, uuid);

-- ---------------------------------------------------------------------------------------------
-- The RPCs

create or replace function public.sync_push(device_id uuid, mutations jsonb) returns jsonb
language plpgsql volatile security invoker
set search_path = ''
as $$
#variable_conflict use_column
declare
  uid text := app.user_id();
  dev uuid := sync_push.device_id;
  batch jsonb := sync_push.mutations;
  n integer;
  problem text;
  bad_ord bigint;
  now_ms bigint := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
  ms app.push_mutation[];
  fresh app.push_mutation[];
  one app.push_mutation;
  last_id uuid;
  prev_results jsonb;
  new_device boolean;
  fresh_results jsonb := '[]'::jsonb;
  res jsonb;
  results jsonb;
  st text;
  msg text;
  cname text;
  colname text;
begin
  if uid is null then
    raise exception 'sync_push needs a signed-in user (a verified token with a sub claim)'
      using errcode = '42501';
  end if;
  if dev is null then
    perform app.bad_batch('device_id must be a uuid');
  end if;
  if jsonb_typeof(batch) is distinct from 'array' then
    perform app.bad_batch(format('mutations must be a JSON array, got %s', coalesce(jsonb_typeof(batch), 'nothing')));
  end if;
  if pg_column_size(batch) > 2097152 then
    perform app.bad_batch(format('mutations take %s bytes; at most 2097152 (2 MiB) per call: send fewer per call',
                                 pg_column_size(batch)));
  end if;
  n := jsonb_array_length(batch);
  if n > 1000 then
    perform app.bad_batch(format('at most 1000 mutations per call, got %s', n));
  end if;

  -- Shape, in one pass (each element checked once); then ids increasing.
  with checked as materialized (
    select e.ord, app.mutation_problem(e.m, format('mutations[%s]', e.ord - 1), dev) as problem
      from jsonb_array_elements(batch) with ordinality as e(m, ord)
  )
  select c.problem into problem from checked as c
   where c.problem is not null
   order by c.ord
   limit 1;
  if problem is not null then
    perform app.bad_batch(problem);
  end if;
  select array_agg(row(e.ord::integer, (e.m ->> 'mutation_id')::uuid, (e.m ->> 'book_id')::uuid,
                       (e.m ->> 'base_version')::bigint, app.clamp_hlc_at(e.m ->> 'hlc', now_ms),
                       e.m -> 'patch')::app.push_mutation order by e.ord)
    into ms
    from jsonb_array_elements(batch) with ordinality as e(m, ord);
  select x.ord into bad_ord
    from (select m.ord, m.mutation_id,
                 lag(m.mutation_id) over (order by m.ord) as prev
            from unnest(ms) as m) as x
   where x.mutation_id <= x.prev
   order by x.ord
   limit 1;
  if bad_ord is not null then
    perform app.bad_batch(format('mutations[%s].mutation_id must be greater than the one before it (ids increase per device)', bad_ord - 1));
  end if;

  -- Queue behind any other push of this user before locking a book (no deadlocks), then lock
  -- this device's ledger row.
  perform app.lock_versions(uid);
  insert into public.sync_ledger as l (user_id, device_id) values (uid, dev)
  on conflict (user_id, device_id) do nothing
  returning true into new_device;
  if new_device then
    perform app.prune_ledger(uid);
  end if;
  select l.last_mutation_id, l.last_results into last_id, prev_results
    from public.sync_ledger as l
   where l.user_id = uid and l.device_id = dev
     for update;

  select array_agg(m order by m.ord) into fresh
    from unnest(ms) as m
   where last_id is null or m.mutation_id > last_id;

  if fresh is not null then
    begin
      if (select count(distinct f.book_id) from unnest(fresh) as f) < cardinality(fresh) then
        -- The same book twice in one batch: each mutation must see the one before it.
        raise exception 'one book twice in a batch' using errcode = 'P0001';
      end if;
      fresh_results := app.apply_batch(uid, dev, fresh);
    exception when others then
      get stacked diagnostics st = returned_sqlstate, msg = message_text;
      -- Lock trouble, cancellation or resource exhaustion is not the batch's fault: fail the
      -- call so the client retries (with a smaller batch after a timeout).
      if st like '40%' or st like '53%' or st like '57%' or st like '55%' or st like '58%'
         or st like 'XX%' then
        raise;
      end if;
      if st <> 'P0001' or msg <> 'one book twice in a batch' then
        raise log 'sync_push: set-based batch failed (%: %), applying one mutation at a time', st, msg;
      end if;
      fresh_results := '[]'::jsonb;
      foreach one in array fresh loop
        begin
          res := app.apply_batch(uid, dev, array[one]) -> 0;
        exception when others then
          get stacked diagnostics st = returned_sqlstate, msg = message_text,
                                  cname = constraint_name, colname = column_name;
          if st like '40%' or st like '53%' or st like '57%' or st like '55%' or st like '58%'
             or st like 'XX%' then
            raise;
          end if;
          res := jsonb_build_object('mutation_id', one.mutation_id, 'book_id', one.book_id,
                                    'result', 'rejected')
                 || app.rejection(st, msg, cname, colname, jsonb_build_object('patch', one.patch));
        end;
        fresh_results := fresh_results || jsonb_build_array(res);
      end loop;
    end;
  end if;

  -- Every answer in batch order: duplicates with their first answer (conflict values as the
  -- book is now), then this batch's own.
  with fresh_r as (
    select (r ->> 'mutation_id')::uuid as mutation_id, r
      from jsonb_array_elements(fresh_results) as r
  ),
  answers as (
    select m.ord, m.mutation_id,
           coalesce(f.r, pg_catalog.jsonb_build_object(
             'mutation_id', m.mutation_id, 'book_id', m.book_id, 'result', 'duplicate')
             || case when prev_results ? m.mutation_id::text then pg_catalog.jsonb_build_object(
                  'original', (prev_results -> m.mutation_id::text)
                    || case when prev_results -> m.mutation_id::text ? 'conflicts'
                            then pg_catalog.jsonb_build_object('conflicts', (
                              select pg_catalog.jsonb_agg(c || pg_catalog.jsonb_build_object(
                                       'server_value', app.book_field(b, c ->> 'field')))
                                from pg_catalog.jsonb_array_elements(
                                       prev_results -> m.mutation_id::text -> 'conflicts') as c))
                            else '{}'::jsonb end)
                  else '{}'::jsonb end) as r,
           f.r is not null as is_fresh
      from unnest(ms) as m
      left join fresh_r as f on f.mutation_id = m.mutation_id
      left join public.books as b on b.id = m.book_id and f.r is null
  )
  select pg_catalog.jsonb_agg(a.r order by a.ord) into results from answers as a;

  -- The ledger keeps compact answers: no values (a duplicate's conflicts get them from the book
  -- as it is now), messages already bounded.
  update public.sync_ledger as l
     set last_mutation_id = coalesce((fresh[cardinality(fresh)]).mutation_id, l.last_mutation_id),
         last_results = case when fresh is null then l.last_results else coalesce((
           select pg_catalog.jsonb_object_agg(a.r ->> 'mutation_id',
                    app.compact_result(case when a.r ->> 'result' = 'duplicate'
                                            then a.r -> 'original' else a.r end))
             from jsonb_array_elements(results) as a(r)
            where a.r ->> 'result' <> 'duplicate' or a.r ? 'original'), '{}'::jsonb) end
   where l.user_id = uid and l.device_id = dev;

  return jsonb_build_object(
    'results', coalesce(results, '[]'::jsonb),
    'server_version', (select s.seq from public.sync_state as s where s.user_id = uid));
end
$$;

-- 0002's pull, for clients released before this file: the same answer plus `purged_through`.
create or replace function public.sync_pull("after" bigint default 0, "max" integer default 1000)
returns jsonb
language plpgsql stable security invoker
set search_path = ''
as $$
declare
  uid text := app.user_id();
  cursor_after bigint := sync_pull."after";
  page_size integer := coalesce(sync_pull."max", 1000);
  page jsonb;
  last_version bigint;
  more boolean;
  current_version bigint;
  purged bigint;
begin
  if uid is null then
    raise exception 'sync_pull needs a signed-in user (a verified token with a sub claim)'
      using errcode = '42501';
  end if;
  if cursor_after is null or cursor_after < 0 then
    raise exception 'after must be a version >= 0 (0 downloads everything)' using errcode = '22023';
  end if;
  if page_size < 1 then
    raise exception 'max must be at least 1 (pages hold at most 1000 rows)' using errcode = '22023';
  end if;
  page_size := least(page_size, 1000);

  select coalesce(jsonb_agg(to_jsonb(b) - 'user_id' - 'hlc' order by b.version), '[]'::jsonb),
         max(b.version)
    into page, last_version
    from (select *
            from public.books
           where user_id = uid and version > cursor_after
           order by version
           limit page_size) as b;

  last_version := coalesce(last_version, cursor_after);
  more := exists (select 1 from public.books where user_id = uid and version > last_version);
  select coalesce(s.seq, 0), coalesce(s.purged_through, 0) into current_version, purged
    from (select 1) as one left join public.sync_state as s on s.user_id = uid;

  return jsonb_build_object('rows', page, 'next_cursor', last_version,
                            'server_version', current_version, 'has_more', more,
                            'purged_through', purged);
end
$$;

-- The pull's rows: what a client reads of a book, nothing else (see the header).
create view public.sync_rows with (security_invoker = true) as
  select b.id, b.title, b.author, b.status, b.notes, b.rating, b.started_on, b.finished_on,
         b.deleted, b.version, b.hlc, b.created_at, b.updated_at
    from public.books as b;
comment on view public.sync_rows is
  'The pull: GET /sync_rows?version=gt.<cursor>&order=version&limit=1000; see migrations/0004_sync_v2.sql';

-- ---------------------------------------------------------------------------------------------
-- Purge

create function app.purge_tombstones(older_than interval default interval '30 days',
                                     for_user text default null)
returns table (user_id text, purged bigint, purged_through bigint)
language plpgsql volatile security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  horizon timestamptz := now() - older_than;
begin
  if older_than < interval '0' then
    raise exception 'older_than must not be negative' using errcode = '22023';
  end if;
  -- Each affected user's version lock first, in one order: a push of theirs waits, and the
  -- purge never holds a book while waiting for a counter (no deadlock with a push).
  perform 1
     from public.sync_state as s
    where s.user_id in (select b.user_id from public.books as b
                         where b.deleted and b.updated_at < horizon
                           and (for_user is null or b.user_id = for_user))
    order by s.user_id
      for update;
  return query
  with removed as (
    delete from public.books as b
     where b.deleted and b.updated_at < horizon
       and (for_user is null or b.user_id = for_user)
    returning b.user_id, b.version
  ),
  per_user as (
    select r.user_id, count(*) as n, max(r.version) as top from removed as r group by r.user_id
  )
  update public.sync_state as s
     set purged_through = greatest(s.purged_through, p.top)
    from per_user as p
   where s.user_id = p.user_id
  returning s.user_id, p.n, s.purged_through;

  delete from public.sync_ledger as l
   where l.updated_at < horizon and (for_user is null or l.user_id = for_user);
end
$$;
comment on function app.purge_tombstones(interval, text) is
  'Removes tombstones older than older_than (one user''s, or everyone''s) and raises purged_through; schedule it (docs/backend.md)';

-- ---------------------------------------------------------------------------------------------
-- Grants

revoke all on table public.sync_rows from public, anon, authenticated, service_role;
grant select on table public.sync_rows to anon, authenticated, service_role;

revoke all on function app.later_hlc(text, text), app.clamp_hlc_at(text, bigint),
  app.shown(text), app.date_text_ok(text),
  app.broken_rule(text, text, text, text, integer, date, date), app.rule_rejection(text, jsonb),
  app.date_rejection(jsonb), app.book_field(public.books, text),
  app.mutation_problem(jsonb, text, uuid), app.apply_batch(text, uuid, app.push_mutation[]),
  app.compact_result(jsonb), app.prune_ledger(text), app.reserve_versions(text, integer),
  app.purge_tombstones(interval, text)
  from public;
grant execute on function app.later_hlc(text, text), app.clamp_hlc_at(text, bigint),
  app.shown(text), app.date_text_ok(text),
  app.broken_rule(text, text, text, text, integer, date, date), app.rule_rejection(text, jsonb),
  app.date_rejection(jsonb), app.book_field(public.books, text),
  app.mutation_problem(jsonb, text, uuid), app.apply_batch(text, uuid, app.push_mutation[]),
  app.compact_result(jsonb), app.prune_ledger(text), app.reserve_versions(text, integer)
  to anon, authenticated, service_role;
-- Only the operator purges (pg_cron runs it as postgres, which owns it).
grant execute on function app.purge_tombstones(interval, text) to service_role;

comment on function public.sync_push(uuid, jsonb) is
  'Apply a batch of a device''s mutations idempotently; see migrations/0004_sync_v2.sql';
comment on function public.sync_pull(bigint, integer) is
  'Kept for clients released before 0004: a page after a version cursor; see migrations/0004_sync_v2.sql';
