-- 0009_shape_check.sql: the push's shape check reads a well-formed mutation without a query.
--
-- Applies after 0008, unchanged on hosted Supabase and on the local stack, in one transaction.
-- Nothing a client sees changes: a batch gets the same answer, a malformed one the same
-- message, as under 0008.
--
-- ## Why
--
-- sync_push checks the shape of each mutation before anything is written, with
-- app.mutation_problem(m, at, dev), once per element of the batch: 31-35 ms of a push of 1,000
-- edits (auto_explain on the local stack), where the whole call takes about 120 ms. The
-- function is one SQL expression, but its last check walks the patch with sub-selects
-- (jsonb_each, for the message naming the first bad field), and PostgreSQL never inlines a
-- function with a sub-select: every mutation paid a full SQL-function call, an executor
-- started and stopped for an answer that is almost always "nothing wrong".
--
-- Measured on the local stack (100,000 books, 1,000 title edits a call, the two versions of
-- the function alternated on one database, six calls each): the shape check 16-24 ms against
-- 33-40 ms (auto_explain), the whole call 101-142 ms against 119-191 ms (medians 116 and
-- 133 ms).
--
-- ## What changes
--
--   app.mutation_problem_found(m, at, dev): 0005's app.mutation_problem as it was (declared
--     STABLE, as 0008 declared it): the first thing wrong with a mutation's shape, as the
--     message the client gets, or null.
--   app.mutation_problem(m, at, dev): PL/pgSQL now. It first tests, in one expression without
--     a sub-select (PL/pgSQL evaluates such an expression directly, with no executor), that
--     the mutation is plainly well formed: an object with only the five keys, uuid ids, a
--     whole-number base version or none, a stamp of this device, a patch of known fields each
--     of its type. If so the answer is null; otherwise app.mutation_problem_found says what
--     is wrong. The test only ever says "well formed" where mutation_problem_found finds
--     nothing (it checks the same rules, no fewer), so every answer is the one 0008 gave;
--     crates/stack/tests/backend/bad_input.rs compares the two functions over 33,005
--     mutations (each key and each patch field missing or replaced by every kind of JSON
--     value, alone and in pairs; 957 of them well formed).

create function app.mutation_problem_found(m jsonb, at text, dev uuid) returns text
language sql stable
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

create or replace function app.mutation_problem(m jsonb, at text, dev uuid) returns text
language plpgsql stable
as $$
begin
  -- CASE first: `-` raises on a scalar, and AND promises no order of evaluation. (In
  -- parentheses: PL/pgSQL's IF ends its condition at the first THEN outside them.)
  if (case
       when pg_catalog.jsonb_typeof(m) <> 'object'
         or pg_catalog.jsonb_typeof(m -> 'patch') <> 'object' then false
       else (m - '{mutation_id,book_id,base_version,hlc,patch}'::text[]) = '{}'::jsonb
         and app.is_uuid_text(m -> 'mutation_id')
         and app.is_uuid_text(m -> 'book_id')
         and (coalesce(m -> 'base_version', 'null'::jsonb) = 'null'::jsonb
              or (pg_catalog.jsonb_typeof(m -> 'base_version') = 'number'
                  and (m ->> 'base_version') ~ '^[0-9]{1,18}$'))
         and pg_catalog.jsonb_typeof(m -> 'hlc') = 'string'
         and (m ->> 'hlc') ~ app.hlc_pattern()
         and pg_catalog.right(m ->> 'hlc', 36) = dev::text
         -- The fields by name, not app.book_fields(): a field added later is checked by
         -- mutation_problem_found until it is named here.
         and ((m -> 'patch')
              - '{title,author,status,notes,rating,started_on,finished_on,isbn,deleted}'::text[])
             = '{}'::jsonb
         and coalesce(pg_catalog.jsonb_typeof(m #> '{patch,title}'), 'string') = 'string'
         and coalesce(pg_catalog.jsonb_typeof(m #> '{patch,author}'), 'string') = 'string'
         and coalesce(pg_catalog.jsonb_typeof(m #> '{patch,status}'), 'string') = 'string'
         and coalesce(pg_catalog.jsonb_typeof(m #> '{patch,notes}'), 'string') = 'string'
         and (coalesce(pg_catalog.jsonb_typeof(m #> '{patch,rating}'), 'null') = 'null'
              or (pg_catalog.jsonb_typeof(m #> '{patch,rating}') = 'number'
                  and (m #>> '{patch,rating}') ~ '^-?[0-9]{1,9}$'))
         and coalesce(pg_catalog.jsonb_typeof(m #> '{patch,started_on}'), 'null')
             in ('null', 'string')
         and coalesce(pg_catalog.jsonb_typeof(m #> '{patch,finished_on}'), 'null')
             in ('null', 'string')
         and coalesce(pg_catalog.jsonb_typeof(m #> '{patch,isbn}'), 'null') in ('null', 'string')
         and coalesce(pg_catalog.jsonb_typeof(m #> '{patch,deleted}'), 'boolean') = 'boolean'
     end)
  then
    return null;
  end if;
  return app.mutation_problem_found(m, at, dev);
end
$$;

revoke all on function app.mutation_problem_found(jsonb, text, uuid) from public;
grant execute on function app.mutation_problem_found(jsonb, text, uuid)
  to anon, authenticated, service_role;
