-- 0007_stamps.sql: the per-field stamps move off the book row, into a table of their own.
--
-- Applies after 0006, unchanged on hosted Supabase and on the local stack, in one transaction.
-- The wire format of 0004 and 0005 holds: sync_push, GET /sync_rows and GET /sync_state answer
-- exactly as before, and sync_pull (0002's, for old clients) still sends `field_versions`.
--
-- ## Why
--
-- `books.field_versions` held, for each of the nine synced fields, the version, HLC stamp and
-- device of the edit that last changed it: 1,279 of a row's 1,514 bytes on average (measured
-- on 100,000 rows). No client reads them (sync_rows sends the row's latest stamp, `hlc`, instead);
-- only the push reads them, to decide conflicts. Yet every read of the table carried them: a
-- plain `GET /books?select=*` of 100,000 rows was 161 MB of JSON against 45 MB without them
-- (1.7 s against 0.6 s of PostgreSQL's own json_agg), and every edit wrote a 1.5 KB row
-- version. Kept beside the row, they cost only the push that needs them.
--
-- ## What changes
--
--   app.book_stamps (id -> books.id, on delete cascade; user_id; field_versions): one row per
--     book, the same JSON object as before ({field: {v, hlc, device}}). In schema `app`, which
--     PostgREST does not expose; RLS keyed on the claim like every per-user table, so a
--     caller's functions reach only their own rows. Purging a tombstone or deleting an
--     account removes a book's stamps with it (the foreign key cascades).
--   books.field_versions is dropped: `GET /books` rows no longer carry it, and a direct write
--     that names it fails (PostgREST: PGRST204, no such column). A direct write (not
--     sync_push) is stamped as before, by the row's version with no HLC, now in book_stamps.
--   sync_push (app.apply_batch) reads and writes the stamps there; its answers are unchanged.
--     It also runs without the JIT compiler now (see "The push" below).
--   sync_pull joins them back into each row, so clients released before 0004 see no change.
--
-- The dropped column's bytes stay in the table's pages until the rows are rewritten (the next
-- edit of each, or `VACUUM FULL public.books`, which takes an exclusive lock: run it in a quiet
-- hour if the table is large).

-- ---------------------------------------------------------------------------------------------
-- The table

create table app.book_stamps (
  id uuid primary key references public.books (id) on delete cascade,
  user_id text not null default app.user_id(),
  field_versions jsonb not null default '{}'::jsonb,
  constraint book_stamps_user_id_check check (char_length(user_id) between 1 and 255),
  constraint book_stamps_field_versions_check check (pg_catalog.jsonb_typeof(field_versions) = 'object')
);
comment on table app.book_stamps is
  'Per book, the stamp of the edit that last changed each synced field: {field: {v, hlc, device}}; read and written by sync_push (app.apply_batch) and the stamping triggers';

-- Every book's stamps, moved (the owner reads every row: lift the force for the copy only).
alter table public.books no force row level security;
insert into app.book_stamps (id, user_id, field_versions)
select b.id, b.user_id, b.field_versions from public.books as b;
alter table public.books force row level security;
alter table public.books drop column field_versions;

alter table app.book_stamps enable row level security;
alter table app.book_stamps force row level security;
create policy book_stamps_select on app.book_stamps for select to anon, authenticated
  using (user_id = (select app.user_id()));
create policy book_stamps_insert on app.book_stamps for insert to anon, authenticated
  with check (user_id = (select app.user_id()));
create policy book_stamps_update on app.book_stamps for update to anon, authenticated
  using (user_id = (select app.user_id())) with check (user_id = (select app.user_id()));

revoke all on table app.book_stamps from public, anon, authenticated, service_role;
grant select, insert, update on table app.book_stamps to anon, authenticated;
grant all on table app.book_stamps to service_role;

-- ---------------------------------------------------------------------------------------------
-- Stamping outside the push (direct REST writes, admin edits)

-- 0004's trigger without the stamps: checks, the version, the times, the row's latest stamp.
create or replace function app.stamp_book() returns trigger
language plpgsql volatile
set search_path = ''
as $$
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

  if tg_op = 'UPDATE' then
    new.created_at := old.created_at;
    new.hlc := old.hlc;
  else
    new.created_at := now();
    new.hlc := null;
  end if;
  new.version := app.next_version(new.user_id);
  new.updated_at := now();
  return new;
end
$$;

-- And, once the row is written, its stamps: each field a direct write set or changed takes the
-- row's new version with no HLC (no device stamped it); the others keep theirs.
create function app.stamp_book_fields() returns trigger
language plpgsql volatile
set search_path = ''
as $$
declare
  f text;
  fv jsonb := '{}'::jsonb;
  newj jsonb := pg_catalog.to_jsonb(new);
  oldj jsonb := '{}'::jsonb;
begin
  if tg_op = 'UPDATE' then
    oldj := pg_catalog.to_jsonb(old);
    select s.field_versions into fv from app.book_stamps as s where s.id = new.id;
    fv := coalesce(fv, '{}'::jsonb);
  end if;
  foreach f in array app.book_fields() loop
    if tg_op = 'INSERT' or newj -> f is distinct from oldj -> f then
      fv := fv || pg_catalog.jsonb_build_object(f, pg_catalog.jsonb_build_object(
        'v', new.version, 'hlc', null, 'device', null));
    end if;
  end loop;
  insert into app.book_stamps as s (id, user_id, field_versions) values (new.id, new.user_id, fv)
  on conflict (id) do update set field_versions = excluded.field_versions;
  return null;
end
$$;

create trigger books_stamp_fields after insert or update on public.books
  for each row
  when (pg_catalog.current_setting('bookwish.stamped', true) is distinct from 'on')
  execute function app.stamp_book_fields();

-- ---------------------------------------------------------------------------------------------
-- The push

-- 0005's apply_batch, the stamps read from and written to app.book_stamps.
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
    select b as bk, s.field_versions as fv
      from public.books as b
      left join app.book_stamps as s on s.id = b.id
     where b.id in (select m.book_id from unnest(ms) as m)
     order by b.id
       for update of b
  ),
  decided as (
    select m.ord, m.mutation_id, m.book_id, m.hlc, m.base, m.patch, c.bk, c.fv,
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
                         and c.fv -> 'deleted' is not null
                         and coalesce((c.fv -> 'deleted' ->> 'v')::bigint, 0) > coalesce(m.base, 0)
                         and (c.fv -> 'deleted' ->> 'device') is distinct from dev::text
                    then pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                           'field', 'deleted', 'server_value', true,
                           'server_hlc', c.fv -> 'deleted' -> 'hlc',
                           'server_version', c.fv -> 'deleted' -> 'v',
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
                       c.fv -> e.key as stamp,
                       c.fv -> e.key is not null
                       and coalesce((c.fv -> e.key ->> 'v')::bigint, 0) > coalesce(m.base, 0)
                       and (c.fv -> e.key ->> 'device') is distinct from dev::text
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
           (r.bk).version, r.fv, (r.bk).hlc,
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
           hlc = app.later_hlc(w.cur_hlc, w.hlc)
      from (select p.*, top - n_writes + row_number() over (order by p.ord) as version
              from unnest(plans) as p
             where p.kind in ('create', 'update')) as w
     where w.kind = 'update' and b.id = w.book_id;

    with ins as (
      insert into public.books as b (id, user_id, title, author, status, notes, rating,
                                     started_on, finished_on, isbn, deleted, version, hlc,
                                     created_at, updated_at)
      select w.book_id, uid, w.title, w.author, w.status, w.notes, w.rating, w.started_on,
             w.finished_on, w.isbn, w.deleted, w.version, w.hlc, now(), now()
        from (select p.*, top - n_writes + row_number() over (order by p.ord) as version
                from unnest(plans) as p
               where p.kind in ('create', 'update')) as w
       where w.kind = 'create'
       order by w.ord
      on conflict (id) do nothing
      returning b.id
    )
    select coalesce(array_agg(ins.id), '{}') into inserted from ins;

    -- The stamps of what was written: every field of a create, the written fields of an update
    -- (the others keep theirs).
    insert into app.book_stamps as s (id, user_id, field_versions)
    select w.book_id, uid,
           case when w.kind = 'update' then coalesce(w.cur_fv, '{}'::jsonb) else '{}'::jsonb end
           || (select pg_catalog.jsonb_object_agg(f, pg_catalog.jsonb_build_object(
                        'v', w.version, 'hlc', w.hlc, 'device', dev))
                 from unnest(case when w.kind = 'create' then app.book_fields()
                                  else array(select pg_catalog.jsonb_object_keys(w.win)) end) as f)
      from (select p.*, top - n_writes + row_number() over (order by p.ord) as version
              from unnest(plans) as p
             where p.kind in ('create', 'update')) as w
     where w.kind = 'update' or w.book_id = any (inserted)
     order by w.book_id
    on conflict (id) do update set field_versions = excluded.field_versions;
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

-- The push runs without PostgreSQL's JIT compiler. The planner cannot see through unnest() of a
-- batch or jsonb_each() of a patch (it guesses 2,500 rows and a lateral aggregate per row), so
-- the statement that plans a batch of 1,000 mutations crossed jit_above_cost and spent 45 ms of
-- its 113 ms compiling code for 1,000 rows (EXPLAIN ANALYZE under auto_explain); sync_push of
-- 1,000 edits took 285 ms with JIT and 200 ms without. Every statement of a push is bounded by
-- its 1,000 mutations, where JIT never pays.
alter function public.sync_push(uuid, jsonb) set jit = off;

-- ---------------------------------------------------------------------------------------------
-- The pull of clients released before 0004: the same rows, the stamps joined back.

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

  select coalesce(pg_catalog.jsonb_agg(
           (pg_catalog.to_jsonb(b) - 'user_id' - 'hlc')
           || pg_catalog.jsonb_build_object('field_versions', coalesce(s.field_versions, '{}'::jsonb))
           order by b.version), '[]'::jsonb),
         max(b.version)
    into page, last_version
    from (select *
            from public.books
           where user_id = uid and version > cursor_after
           order by version
           limit page_size) as b
    left join app.book_stamps as s on s.id = b.id;

  last_version := coalesce(last_version, cursor_after);
  more := exists (select 1 from public.books where user_id = uid and version > last_version);
  select coalesce(s.seq, 0), coalesce(s.purged_through, 0) into current_version, purged
    from (select 1) as one left join public.sync_state as s on s.user_id = uid;

  return pg_catalog.jsonb_build_object('rows', page, 'next_cursor', last_version,
                                       'server_version', current_version, 'has_more', more,
                                       'purged_through', purged);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Grants for the new functions (the owner keeps its own).

revoke all on function app.stamp_book_fields() from public;
grant execute on function app.stamp_book_fields() to anon, authenticated, service_role;
