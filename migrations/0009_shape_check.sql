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
--   app.mutation_problem_found(m, at, dev): 0005's app.mutation_problem renamed, its body and
--     grants as they were (STABLE since 0008): the first thing wrong with a mutation's shape,
--     as the message the client gets, or null.
--   app.mutation_problem(m, at, dev): a new function of that name, in PL/pgSQL, which
--     sync_push calls from now on (PL/pgSQL finds a function by name when it plans the call;
--     a plan made before this migration calls the renamed function, which answers the
--     same). It first tests, in one expression without a sub-select (PL/pgSQL evaluates
--     such an expression directly, with no executor), that the mutation is plainly well
--     formed: an object with only the five keys, uuid ids, a whole-number base version or
--     none, a stamp of this device, a patch of known fields each of its type. If so the
--     answer is null; otherwise app.mutation_problem_found says what is wrong. The test only ever says "well formed" where mutation_problem_found finds
--     nothing (it checks the same rules, no fewer), so every answer is the one 0008 gave;
--     crates/stack/tests/backend/bad_input.rs compares the two functions over 33,005
--     mutations (each key and each patch field missing or replaced by every kind of JSON
--     value, alone and in pairs; 957 of them well formed).

alter function app.mutation_problem(jsonb, text, uuid) rename to mutation_problem_found;

create function app.mutation_problem(m jsonb, at text, dev uuid) returns text
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

revoke all on function app.mutation_problem(jsonb, text, uuid) from public;
grant execute on function app.mutation_problem(jsonb, text, uuid)
  to anon, authenticated, service_role;
