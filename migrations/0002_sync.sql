-- 0002_sync.sql: the sync RPCs, exposed by PostgREST as POST /rpc/sync_push and /rpc/sync_pull.
--
-- Both are SECURITY INVOKER: they run as the caller (anon or authenticated with the verified
-- claims), so the RLS policies of 0001 apply to every row they touch.
--
-- ## HLC stamps
--
-- A stamp is `<millis>-<counter>-<device>`:
--   millis   milliseconds since the Unix epoch, zero-padded decimal (13 digits, e.g.
--            `1732612345678`; up to 16 accepted),
--   counter  orders stamps within one millisecond, zero-padded decimal (6 digits, e.g. `000042`;
--            5 accepted),
--   device   the pushing device's id, a lowercase hyphenated UUID equal to sync_push's device_id.
-- Example: `1732612345678-000000-0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b`.
-- One width per deployment makes stamps sort as plain strings on clients; the server never
-- depends on that: it parses a stamp and compares (millis, counter, device) as numbers and text.
-- A stamp more than 5 minutes (app.hlc_max_ahead_ms) ahead of the server clock is clamped to the
-- server clock (counter and device kept), so one device with a runaway clock cannot win every
-- conflict forever. Stamps written outside sync_push (direct REST writes, admin edits) have no
-- HLC and lose a concurrent conflict to any stamped edit.
--
-- ## sync_push(device_id uuid, mutations jsonb) -> jsonb
--
-- `mutations` is an array (at most 1000) of
--   {"mutation_id": uuid, "book_id": uuid, "base_version": bigint | null, "hlc": stamp,
--    "patch": {"title"?: text, "author"?: text, "status"?: text, "notes"?: text,
--              "rating"?: int | null, "started_on"?: "YYYY-MM-DD" | null,
--              "finished_on"?: "YYYY-MM-DD" | null, "deleted"?: bool}}
-- Mutation ids strictly increase per device (UUIDv7 made in order). `base_version` is the
-- server version of the book the edit was made on (null: a book new to the server). A patch on a
-- book not on the server creates it (title required).
--
-- The batch's shape is checked first: anything malformed (not an array, an unknown key, a value
-- of the wrong JSON type, a malformed uuid or stamp, ids not increasing) fails the whole call
-- with SQLSTATE 22023 (HTTP 400) naming the offending element, and nothing is written.
--
-- Then, under the user's version lock, each mutation runs in its own savepoint:
--   * id <= the ledger's last id for (user, device): "duplicate", nothing applied (with
--     "original": the first answer, when it was in the most recent batch);
--   * a CHECK, RLS or type failure: "rejected" with `code` and a readable `message`; the rest of
--     the batch goes on;
--   * otherwise "applied" or "conflict", with the book's new `version`.
-- The ledger is updated in the same transaction, so a retried batch never applies twice.
--
-- Field conflicts (DESIGN §5): a patched field is in conflict only if another device changed it
-- after `base_version` (field_versions.<field>.v > base_version) and the values differ. The later
-- HLC stamp wins (an unstamped server value always loses). `deleted` is special: delete wins over
-- a concurrent edit, in both directions (a concurrent restore loses to a delete; an edit to a
-- book deleted concurrently is kept on the tombstone and reported with field "deleted"). Each
-- conflict is reported as {field, server_value, server_hlc, server_version, client_value, winner}
-- with winner "client" (applied; server_value is the value it replaced) or "server" (not
-- applied; the client should keep its value as the losing one).
--
-- Result: {"results": [{mutation_id, book_id, result, code?, message?, version?, conflicts?,
--          original?}], "server_version": bigint}
--
-- ## sync_pull(after bigint, max int) -> jsonb
--
-- {"rows": [book…], "next_cursor": bigint, "server_version": bigint, "has_more": bool}: the
-- caller's books with version > after in version order, at most `max` (capped at 1000, hosted
-- Supabase's row cap). Keep pulling with next_cursor until has_more is false; a short page does
-- not mean the end. server_version is the user's counter in the same snapshot.

-- ---------------------------------------------------------------------------------------------
-- Stamps

-- True when stamp a orders after stamp b. A malformed or missing b orders before everything.
create function app.hlc_after(a text, b text) returns boolean
language plpgsql immutable
set search_path = ''
as $$
declare
  pa text[] := regexp_match(a, app.hlc_pattern());
  pb text[] := regexp_match(b, app.hlc_pattern());
begin
  if pa is null then
    return false;
  end if;
  if pb is null then
    return true;
  end if;
  return (pa[1]::bigint, pa[2]::integer, pa[3]) > (pb[1]::bigint, pb[2]::integer, pb[3]);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Shape checks: raise 22023 (HTTP 400) naming the element, before anything is written.

create function app.bad_batch(msg text) returns void
language plpgsql volatile
set search_path = ''
as $$
begin
  raise exception '%', msg
    using errcode = '22023',
          hint = 'nothing in this batch was written; fix it and send it again (see migrations/0002_sync.sql)';
end
$$;

create function app.is_uuid_text(v jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select coalesce(jsonb_typeof(v) = 'string'
     and (v #>> '{}') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', false)
$$;

create function app.check_mutation(m jsonb, i integer, dev uuid) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  at text := format('mutations[%s]', i);
  k text;
  v jsonb;
  t text;
  parts text[];
begin
  if jsonb_typeof(m) is distinct from 'object' then
    perform app.bad_batch(format('%s must be an object, got %s', at, coalesce(jsonb_typeof(m), 'nothing')));
  end if;
  for k in select jsonb_object_keys(m) loop
    if k not in ('mutation_id', 'book_id', 'base_version', 'hlc', 'patch') then
      perform app.bad_batch(format('%s has an unknown key %s (expected mutation_id, book_id, base_version, hlc, patch)', at, to_jsonb(k)));
    end if;
  end loop;
  if not app.is_uuid_text(m -> 'mutation_id') then
    perform app.bad_batch(format('%s.mutation_id must be a uuid string, got %s', at, coalesce(left((m -> 'mutation_id')::text, 80), 'nothing')));
  end if;
  if not app.is_uuid_text(m -> 'book_id') then
    perform app.bad_batch(format('%s.book_id must be a uuid string, got %s', at, coalesce(left((m -> 'book_id')::text, 80), 'nothing')));
  end if;
  v := m -> 'base_version';
  if v is not null and v <> 'null'::jsonb
     and not (jsonb_typeof(v) = 'number' and (v #>> '{}') ~ '^[0-9]{1,18}$') then
    perform app.bad_batch(format('%s.base_version must be a whole number >= 0 or null, got %s', at, left(v::text, 80)));
  end if;
  v := m -> 'hlc';
  parts := case when jsonb_typeof(v) = 'string' then regexp_match(v #>> '{}', app.hlc_pattern()) end;
  if parts is null then
    perform app.bad_batch(format('%s.hlc must be a stamp "<13-digit millis>-<6-digit counter>-<device uuid>", got %s', at, coalesce(left(v::text, 80), 'nothing')));
  end if;
  if parts[3] <> dev::text then
    perform app.bad_batch(format('%s.hlc was stamped by device %s, but this batch is from device %s', at, parts[3], dev));
  end if;
  if jsonb_typeof(m -> 'patch') is distinct from 'object' then
    perform app.bad_batch(format('%s.patch must be an object of fields, got %s', at, coalesce(jsonb_typeof(m -> 'patch'), 'nothing')));
  end if;
  for k, v in select * from jsonb_each(m -> 'patch') loop
    t := jsonb_typeof(v);
    case k
      when 'title', 'author', 'status', 'notes' then
        if t <> 'string' then
          perform app.bad_batch(format('%s.patch.%s must be a string, got %s', at, k, left(v::text, 80)));
        end if;
      when 'rating' then
        if t <> 'null' and not (t = 'number' and (v #>> '{}') ~ '^-?[0-9]{1,9}$') then
          perform app.bad_batch(format('%s.patch.rating must be a whole number or null, got %s', at, left(v::text, 80)));
        end if;
      when 'started_on', 'finished_on' then
        if t not in ('null', 'string') then
          perform app.bad_batch(format('%s.patch.%s must be a "YYYY-MM-DD" string or null, got %s', at, k, left(v::text, 80)));
        end if;
      when 'deleted' then
        if t <> 'boolean' then
          perform app.bad_batch(format('%s.patch.deleted must be true or false, got %s', at, left(v::text, 80)));
        end if;
      else
        perform app.bad_batch(format('%s.patch has an unknown field %s (expected one of %s)', at, to_jsonb(left(k, 80)), array_to_string(app.book_fields(), ', ')));
    end case;
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Rejections: a stable code and a message the UI can show.

create function app.rejection(state text, msg text, constraint_name text, column_name text, m jsonb)
returns jsonb
language plpgsql immutable
set search_path = ''
as $$
declare
  p jsonb := m -> 'patch';
begin
  if state = '23514' then
    return jsonb_build_object('code', 'check_violation', 'message', case constraint_name
      when 'books_title_check' then format(
        'title must be 1 to 500 characters and not blank (got %s characters)',
        coalesce(char_length(p ->> 'title'), 0))
      when 'books_author_check' then format(
        'author must be at most 300 characters (got %s)', char_length(p ->> 'author'))
      when 'books_notes_check' then format(
        'notes must be at most 10000 characters (got %s)', char_length(p ->> 'notes'))
      when 'books_status_check' then format(
        'unknown status %s: status must be Wishlist, Reading or Finished', left(p ->> 'status', 80))
      when 'books_rating_check' then format(
        'rating must be a whole number from 1 to 5 (got %s)', p ->> 'rating')
      when 'books_dates_check' then 'finished_on must not be before started_on'
      else msg
    end);
  elsif state = '23502' then
    return jsonb_build_object('code', 'missing_field', 'message',
      case when column_name = 'title' then 'a new book needs a title'
           else format('%s is required', column_name) end);
  elsif state = '23505' then
    return jsonb_build_object('code', 'id_taken', 'message',
      'this book id is already used by another account; create the book again to get a new id');
  elsif state = '42501' then
    return jsonb_build_object('code', 'forbidden', 'message', msg);
  elsif state like '22%' then
    return jsonb_build_object('code', 'invalid_value', 'message', msg);
  end if;
  return jsonb_build_object('code', 'error', 'message', msg);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- One mutation (shape already checked). Runs inside sync_push's savepoint.

create function app.apply_mutation(dev uuid, m jsonb) returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  bid uuid := (m ->> 'book_id')::uuid;
  base bigint := coalesce((m ->> 'base_version')::bigint, 0);
  hlc text := app.clamp_hlc(m ->> 'hlc');
  patch jsonb := m -> 'patch';
  pending jsonb := jsonb_build_object('v', null, 'hlc', hlc, 'device', dev);
  cur public.books;
  curj jsonb;
  nxt public.books;
  f text;
  stamp jsonb;
  server_val jsonb;
  client_val jsonb;
  client_wins boolean;
  win jsonb := '{}'::jsonb;
  fv jsonb;
  conflicts jsonb := '[]'::jsonb;
  ver bigint;
  out jsonb := jsonb_build_object('mutation_id', m -> 'mutation_id', 'book_id', m -> 'book_id');
begin
  select * into cur from public.books where id = bid for update;

  if not found then
    -- New to the server (or another account's id: the primary key refuses it).
    fv := '{}'::jsonb;
    foreach f in array app.book_fields() loop
      fv := fv || jsonb_build_object(f, pending);
    end loop;
    insert into public.books (id, title, author, status, notes, rating, started_on, finished_on,
                              deleted, field_versions)
    select bid, r.title, coalesce(r.author, ''), coalesce(r.status, 'Wishlist'),
           coalesce(r.notes, ''), r.rating, r.started_on, r.finished_on,
           coalesce(r.deleted, false), fv
    from jsonb_populate_record(null::public.books, patch) as r
    returning version into ver;
    return out || jsonb_build_object('result', 'applied', 'version', ver);
  end if;

  curj := to_jsonb(cur);
  for f, client_val in select * from jsonb_each(patch) loop
    stamp := cur.field_versions -> f;
    server_val := curj -> f;
    if stamp is null
       or coalesce((stamp ->> 'v')::bigint, 0) <= base
       or (stamp ->> 'device') is not distinct from dev::text
       or server_val = client_val then
      -- Nobody else changed this field since the client's base: the edit simply applies.
      win := win || jsonb_build_object(f, client_val);
      continue;
    end if;
    if f = 'deleted' then
      client_wins := client_val = 'true'::jsonb; -- delete wins over a concurrent restore
    else
      client_wins := app.hlc_after(hlc, stamp ->> 'hlc');
    end if;
    conflicts := conflicts || jsonb_build_array(jsonb_build_object(
      'field', f,
      'server_value', server_val,
      'server_hlc', stamp -> 'hlc',
      'server_version', stamp -> 'v',
      'client_value', client_val,
      'winner', case when client_wins then 'client' else 'server' end));
    if client_wins then
      win := win || jsonb_build_object(f, client_val);
    end if;
  end loop;

  -- Delete wins over a concurrent edit: the edit is kept on the tombstone, the book stays
  -- deleted, and the client is told so it can offer a restore.
  stamp := cur.field_versions -> 'deleted';
  if cur.deleted and not (patch ? 'deleted') and patch <> '{}'::jsonb
     and stamp is not null
     and coalesce((stamp ->> 'v')::bigint, 0) > base
     and (stamp ->> 'device') is distinct from dev::text then
    conflicts := conflicts || jsonb_build_array(jsonb_build_object(
      'field', 'deleted',
      'server_value', true,
      'server_hlc', stamp -> 'hlc',
      'server_version', stamp -> 'v',
      'client_value', false,
      'winner', 'server'));
  end if;

  ver := cur.version;
  if win <> '{}'::jsonb then
    nxt := jsonb_populate_record(cur, win);
    fv := cur.field_versions;
    for f in select jsonb_object_keys(win) loop
      fv := fv || jsonb_build_object(f, pending);
    end loop;
    update public.books
       set title = nxt.title, author = nxt.author, status = nxt.status, notes = nxt.notes,
           rating = nxt.rating, started_on = nxt.started_on, finished_on = nxt.finished_on,
           deleted = nxt.deleted, field_versions = fv
     where id = bid
    returning version into ver;
  end if;

  if conflicts = '[]'::jsonb then
    return out || jsonb_build_object('result', 'applied', 'version', ver);
  end if;
  return out || jsonb_build_object('result', 'conflict', 'version', ver, 'conflicts', conflicts);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- The RPCs

create function public.sync_push(device_id uuid, mutations jsonb) returns jsonb
language plpgsql volatile security invoker
set search_path = ''
as $$
#variable_conflict use_column
declare
  uid text := app.user_id();
  dev uuid := sync_push.device_id;
  batch jsonb := sync_push.mutations;
  n integer;
  i integer;
  m jsonb;
  mid uuid;
  prev_mid uuid;
  last_id uuid;
  prev_results jsonb;
  new_results jsonb := '{}'::jsonb;
  res jsonb;
  results jsonb := '[]'::jsonb;
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
  n := jsonb_array_length(batch);
  if n > 1000 then
    perform app.bad_batch(format('at most 1000 mutations per call, got %s', n));
  end if;
  for i in 0 .. n - 1 loop
    m := batch -> i;
    perform app.check_mutation(m, i, dev);
    mid := (m ->> 'mutation_id')::uuid;
    if prev_mid is not null and mid <= prev_mid then
      perform app.bad_batch(format('mutations[%s].mutation_id must be greater than the one before it (ids increase per device)', i));
    end if;
    prev_mid := mid;
  end loop;

  -- Queue behind any other push of this user before locking a book (no deadlocks), then lock
  -- this device's ledger row.
  perform app.lock_versions(uid);
  insert into public.sync_ledger as l (user_id, device_id) values (uid, dev)
  on conflict (user_id, device_id) do nothing;
  select l.last_mutation_id, l.last_results into last_id, prev_results
    from public.sync_ledger as l
   where l.user_id = uid and l.device_id = dev
     for update;

  for i in 0 .. n - 1 loop
    m := batch -> i;
    mid := (m ->> 'mutation_id')::uuid;
    if last_id is not null and mid <= last_id then
      res := jsonb_build_object('mutation_id', m -> 'mutation_id', 'book_id', m -> 'book_id',
                                'result', 'duplicate');
      if prev_results ? mid::text then
        res := res || jsonb_build_object('original', prev_results -> mid::text);
        new_results := new_results || jsonb_build_object(mid::text, prev_results -> mid::text);
      end if;
      results := results || jsonb_build_array(res);
      continue;
    end if;

    begin
      res := app.apply_mutation(dev, m);
    exception when others then
      get stacked diagnostics st = returned_sqlstate, msg = message_text,
                              cname = constraint_name, colname = column_name;
      -- Lock trouble, cancellation or resource exhaustion is not the mutation's fault: fail the
      -- call so the client retries the whole batch.
      if st like '40%' or st like '53%' or st like '57%' or st like '55%' or st like '58%'
         or st like 'XX%' then
        raise;
      end if;
      res := jsonb_build_object('mutation_id', m -> 'mutation_id', 'book_id', m -> 'book_id',
                                'result', 'rejected')
             || app.rejection(st, msg, cname, colname, m);
    end;
    results := results || jsonb_build_array(res);
    new_results := new_results || jsonb_build_object(mid::text, res - 'mutation_id' - 'book_id');
    last_id := mid;
  end loop;

  update public.sync_ledger as l
     set last_mutation_id = last_id,
         last_results = case when new_results = '{}'::jsonb then l.last_results else new_results end
   where l.user_id = uid and l.device_id = dev;

  return jsonb_build_object(
    'results', results,
    'server_version', (select s.seq from public.sync_state as s where s.user_id = uid));
end
$$;

create function public.sync_pull("after" bigint default 0, "max" integer default 1000)
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

  select coalesce(jsonb_agg(to_jsonb(b) - 'user_id' order by b.version), '[]'::jsonb),
         (array_agg(b.version order by b.version desc))[1]
    into page, last_version
    from (select *
            from public.books
           where user_id = uid and version > cursor_after
           order by version
           limit page_size) as b;

  last_version := coalesce(last_version, cursor_after);
  more := exists (select 1 from public.books where user_id = uid and version > last_version);
  select coalesce((select s.seq from public.sync_state as s where s.user_id = uid), 0)
    into current_version;

  return jsonb_build_object('rows', page, 'next_cursor', last_version,
                            'server_version', current_version, 'has_more', more);
end
$$;

comment on function public.sync_push(uuid, jsonb) is
  'Apply a batch of a device''s mutations idempotently; see migrations/0002_sync.sql';
comment on function public.sync_pull(bigint, integer) is
  'A page of the caller''s books after a version cursor, in version order; see migrations/0002_sync.sql';

revoke all on function public.sync_push(uuid, jsonb), public.sync_pull(bigint, integer) from public;
grant execute on function public.sync_push(uuid, jsonb), public.sync_pull(bigint, integer)
  to anon, authenticated, service_role;

revoke all on all functions in schema app from public;
grant execute on all functions in schema app to anon, authenticated, service_role;
