-- 0005_isbn.sql: the ISBN, a synced field of a book like the others.
--
-- Applies after 0004 (0006 does not depend on it), unchanged on hosted Supabase and on the local
-- stack, in one transaction. The wire format of 0004 holds; this file adds one field to it.
--
-- ## The field
--
--   books.isbn text: null (no ISBN) or an ISBN-13 as the app stores it: 13 digits, starting with
--   978 or 979, the last one the EAN-13 check digit (constraint books_isbn_check, the same rule
--   as the app's crates/core/src/isbn.rs and its local CHECK). Clients convert an ISBN-10 and
--   drop hyphens before they send one; the server stores only the canonical form, so one book
--   has one value on every device.
--
-- ## What changes in the contract of 0004
--
--   sync_push: a patch may carry "isbn": a string or null (any other JSON type fails the call
--     like any shape error: 22023, nothing written). A string that is not a checked ISBN-13 is
--     rejected (check_violation, "isbn must be an ISBN-13: … (got "…")"). The field has its
--     field version and HLC stamp like every field (field_versions.isbn), and two devices'
--     edits of it conflict and are decided like any field's. A create without "isbn" (every
--     client released before this file) leaves it null; an update without it leaves it alone.
--   GET /sync_rows: rows also carry `isbn` (the view's last column; clients select by name).
--   sync_pull (0002's, for old clients): rows carry `isbn` too; those clients ignore it.
--
-- ## Order of deployment
--
-- Apply this file before releasing an app that syncs the ISBN: such an app reads `isbn` from
-- sync_rows and sends it in sync_push, which a server without this file answers with HTTP 400
-- (no such column; unknown field "isbn"), so that app would not sync until it is applied.
-- Apps released before it keep syncing unchanged after it is applied.

-- ---------------------------------------------------------------------------------------------
-- The rule

-- Whether `s` is an ISBN-13 as the app stores it; null for null. Plain SQL without SET, so the
-- push's set-based statements inline it (see 0004).
create function app.isbn_ok(s text) returns boolean
language sql immutable
as $$
  select case
    when s is null then null
    when s !~ '^97[89][0-9]{10}$' then false
    else (  pg_catalog.substr(s, 1, 1)::integer + 3 * pg_catalog.substr(s, 2, 1)::integer
          + pg_catalog.substr(s, 3, 1)::integer + 3 * pg_catalog.substr(s, 4, 1)::integer
          + pg_catalog.substr(s, 5, 1)::integer + 3 * pg_catalog.substr(s, 6, 1)::integer
          + pg_catalog.substr(s, 7, 1)::integer + 3 * pg_catalog.substr(s, 8, 1)::integer
          + pg_catalog.substr(s, 9, 1)::integer + 3 * pg_catalog.substr(s, 10, 1)::integer
          + pg_catalog.substr(s, 11, 1)::integer + 3 * pg_catalog.substr(s, 12, 1)::integer
          + pg_catalog.substr(s, 13, 1)::integer) % 10 = 0
  end
$$;

-- ---------------------------------------------------------------------------------------------
-- The column

alter table public.books add column isbn text;
alter table public.books add constraint books_isbn_check check (isbn is null or app.isbn_ok(isbn));
comment on column public.books.isbn is
  'ISBN-13: 13 digits, 978 or 979 first, valid check digit; null = none (the app converts ISBN-10)';

-- ---------------------------------------------------------------------------------------------
-- The field in sync: the field list (stamping trigger, field_versions of a create, the shape
-- check's message), one field as JSON (conflicts), the shape check, the rules the push checks
-- before writing and the set-based push itself.

create or replace function app.book_fields() returns text[]
language sql immutable
set search_path = ''
as $$
  select array['title', 'author', 'status', 'notes', 'rating', 'started_on', 'finished_on', 'isbn',
               'deleted']
$$;

create or replace function app.book_field(b public.books, f text) returns jsonb
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
    when 'isbn' then coalesce(pg_catalog.to_jsonb(b.isbn), 'null'::jsonb)
    when 'deleted' then pg_catalog.to_jsonb(b.deleted)
  end
$$;

create or replace function app.mutation_problem(m jsonb, at text, dev uuid) returns text
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
        when f.k = 'isbn' then pg_catalog.format(
          '%s.patch.isbn must be a string of 13 digits or null, got %s', at,
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
        when f.k in ('started_on', 'finished_on', 'isbn') then pg_catalog.jsonb_typeof(f.v) not in ('null', 'string')
        when f.k = 'deleted' then pg_catalog.jsonb_typeof(f.v) <> 'boolean'
        else true
      end
      limit 1)
  end
$$;

-- 0004's rules plus the ISBN's; it replaces the seven-argument version (dropped below).
create function app.broken_rule(title text, author text, status text, notes text, rating integer,
                                started_on date, finished_on date, isbn text) returns text
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
    when not app.isbn_ok(isbn) then 'books_isbn_check'
    when finished_on < started_on then 'books_dates_check'
  end
$$;

create or replace function app.rule_rejection(rule text, p jsonb) returns jsonb
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
      when 'books_isbn_check' then pg_catalog.format(
        'isbn must be an ISBN-13: 13 digits starting with 978 or 979 whose last digit is the check digit (got %s)',
        app.shown(p ->> 'isbn'))
      when 'books_dates_check' then 'finished_on must not be before started_on'
      else pg_catalog.left(coalesce(rule, 'refused'), 200)
    end)
  end
$$;

-- What apply_batch decided for one mutation now carries the ISBN to write.
alter type app.push_plan add attribute isbn text;

-- 0004's apply_batch, writing the ISBN like the other fields.
create or replace function app.apply_batch(uid text, dev uuid, ms app.push_mutation[]) returns jsonb
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
                else coalesce((d.bk).deleted, false) end as v_deleted,
           case when w.w ? 'isbn' then w.w ->> 'isbn' else (d.bk).isbn end as v_isbn
      from decided as d,
           lateral (select case when d.found then d.win else d.patch end as w) as w
  ),
  ruled as materialized (
    select v.*, app.broken_rule(v.v_title, v.v_author, v.v_status, v.v_notes, v.v_rating,
                                v.v_started, v.v_finished, v.v_isbn) as rule
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
           r.v_deleted, r.v_isbn)::app.push_plan order by r.ord)
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
           isbn = w.isbn, deleted = w.deleted, version = w.version, updated_at = now(),
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
                                     started_on, finished_on, isbn, deleted, version,
                                     field_versions, hlc, created_at, updated_at)
      select w.book_id, uid, w.title, w.author, w.status, w.notes, w.rating, w.started_on,
             w.finished_on, w.isbn, w.deleted, w.version,
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

drop function app.broken_rule(text, text, text, text, integer, date, date);

-- ---------------------------------------------------------------------------------------------
-- The pull

create or replace view public.sync_rows with (security_invoker = true) as
  select b.id, b.title, b.author, b.status, b.notes, b.rating, b.started_on, b.finished_on,
         b.deleted, b.version, b.hlc, b.created_at, b.updated_at, b.isbn
    from public.books as b;
comment on view public.sync_rows is
  'The pull: GET /sync_rows?version=gt.<cursor>&order=version&limit=1000; see migrations/0004_sync_v2.sql and 0005_isbn.sql';

-- ---------------------------------------------------------------------------------------------
-- Grants

revoke all on table public.sync_rows from public, anon, authenticated, service_role;
grant select on table public.sync_rows to anon, authenticated, service_role;

revoke all on function app.isbn_ok(text),
  app.broken_rule(text, text, text, text, integer, date, date, text)
  from public;
grant execute on function app.isbn_ok(text),
  app.broken_rule(text, text, text, text, integer, date, date, text)
  to anon, authenticated, service_role;
