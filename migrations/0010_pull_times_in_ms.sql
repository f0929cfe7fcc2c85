-- 0010_pull_times_in_ms.sql: the pull sends a book's two times as milliseconds, the unit the
-- app stores them in.
--
-- Applies after 0009, unchanged on hosted Supabase and on the local stack, in one transaction.
-- Nothing is taken away: `sync_rows` keeps every column in its place and gains two at its end,
-- so a client that selects `created_at` and `updated_at` (every release before this one) reads
-- the same answer as before. The app from this release on selects the new columns instead: a
-- server without this file answers its first pull with HTTP 400 (PostgREST: column does not
-- exist), so this migration goes to the server before the release goes to users.
--
-- ## Why
--
-- A pulled row carried `created_at` and `updated_at` as ISO 8601 text,
-- "2026-12-05T18:00:00.123456+00:00": 32 bytes each plus quotes, 68 of the row's 410 bytes of
-- JSON, which PostgreSQL formats through the time zone rules for every row, PostgREST passes
-- on, and the app parses back into the milliseconds since 1970 it stores (`created_at` orders
-- the list). The same instants as numbers are 13 digits each. In the sync bench (100,000 books,
-- five runs taken in turn, medians), an app that did not pull the two times at all finished
-- its initial sync in 693-736 ms against 805-849 ms: that is what the two columns cost; as
-- milliseconds they cost a number each (docs/performance.md §2 gives this file's own figures).
--
-- ## What changes
--
--   sync_rows.created_at_ms, sync_rows.updated_at_ms (bigint): the row's created_at and
--     updated_at as whole milliseconds since 1970-01-01 UTC, rounded down — exactly what the
--     app computed from the text (chrono's timestamp_millis). The expression stays in
--     floating point, which PostgreSQL evaluates several times faster than numeric
--     (`extract` returns numeric): date_part's seconds times 10^6, rounded, is the stored
--     microsecond count exactly (a double holds it with half a microsecond to spare for any
--     time within ±285 years of 1970), and dividing that by 1,000 and rounding down is exact
--     too. Checked against floor(extract(epoch from t) * 1000) on 2.4 million instants,
--     before and after 1970 and at every millisecond boundary: no difference
--     (crates/stack/tests/backend/keyset.rs checks it on the server's own rows).
--   The view stays a plain security-invoker view: PostgREST's keyset read of it is still one
--   index scan of (user_id, version) with the caller's policy, the two expressions computed
--   per row as PostgREST aggregates it.

create or replace view public.sync_rows with (security_invoker = true) as
  select b.id, b.title, b.author, b.status, b.notes, b.rating, b.started_on, b.finished_on,
         b.deleted, b.version, b.hlc, b.created_at, b.updated_at, b.isbn,
         (pg_catalog.floor(pg_catalog.round(pg_catalog.date_part('epoch', b.created_at) * 1000000)
                           / 1000))::bigint as created_at_ms,
         (pg_catalog.floor(pg_catalog.round(pg_catalog.date_part('epoch', b.updated_at) * 1000000)
                           / 1000))::bigint as updated_at_ms
    from public.books as b;
comment on view public.sync_rows is
  'The pull: GET /sync_rows?version=gt.<cursor>&order=version&limit=1000; see migrations/0004_sync_v2.sql, 0005_isbn.sql and 0010_pull_times_in_ms.sql';

revoke all on table public.sync_rows from public, anon, authenticated, service_role;
grant select on table public.sync_rows to anon, authenticated, service_role;
