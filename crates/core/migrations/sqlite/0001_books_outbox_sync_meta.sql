-- The local store: books, the outbox of unsynced edits, and sync bookkeeping.
--
-- Never edit this file once it has shipped: add a new numbered file instead (rusqlite_migration
-- tracks the applied count in PRAGMA user_version). Connection PRAGMAs (WAL, foreign_keys,
-- busy_timeout, synchronous) are set per connection in store.rs, not here: a migration runs in a
-- transaction, where journal_mode and foreign_keys cannot change.

-- One row per book, deleted or not: clients never hard-delete (a tombstone syncs; a missing row
-- does not). The single-field CHECKs repeat the server's constraints (DESIGN §4) as a last line
-- of defence behind validate.rs. There is deliberately no cross-field CHECK (finished_on >=
-- started_on): a sync merge of two devices' field edits may produce such a pair, and a pulled row
-- must never be refused by the local schema.
CREATE TABLE books (
    id             TEXT    PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    title          TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    author         TEXT    NOT NULL DEFAULT '' CHECK (length(author) <= 300),
    status         TEXT    NOT NULL DEFAULT 'Wishlist'
                           CHECK (status IN ('Wishlist', 'Reading', 'Finished')),
    notes          TEXT    NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
    rating         INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    started_on     TEXT    CHECK (started_on IS NULL
                                  OR started_on GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    finished_on    TEXT    CHECK (finished_on IS NULL
                                  OR finished_on GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    -- Milliseconds since the Unix epoch, from this device's clock.
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    -- The server's `version` of this row as last pulled or acknowledged; NULL = never synced.
    server_version INTEGER,
    -- Derived, never synced: title and author case-folded by Rust's str::to_lowercase (SQLite's
    -- lower() and NOCASE fold ASCII only). Every write of title/author rewrites them; search and
    -- the Title/Author sorts read only these, so both are Unicode-aware and indexable.
    title_fold     TEXT    NOT NULL,
    author_fold    TEXT    NOT NULL
) STRICT;

-- The list's three orders over live books, so listing 10,000 rows reads an index in order
-- instead of sorting. Partial (deleted = 0) so tombstones cost nothing; queries must say
-- `deleted = 0` literally for the planner to pick them.
CREATE INDEX books_recent ON books (created_at DESC, id DESC) WHERE deleted = 0;
CREATE INDEX books_by_title ON books (title_fold, title, created_at, id) WHERE deleted = 0;
-- `author_fold = ''` first: books without an author go after every named author.
CREATE INDEX books_by_author
    ON books (author_fold = '', author_fold, title_fold, title, created_at, id)
    WHERE deleted = 0;
-- The status filter in the default order, and the per-status counts (covering).
CREATE INDEX books_by_status ON books (status, created_at DESC, id DESC) WHERE deleted = 0;

-- At most one pending mutation per book: later edits coalesce into it (DESIGN §5).
CREATE TABLE outbox (
    book_id      TEXT    PRIMARY KEY NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    -- JSON object of the changed fields with their new values (server column names); a create
    -- holds every field, a delete {"deleted":true}, a restore {"deleted":false}.
    patch        TEXT    NOT NULL CHECK (json_valid(patch) AND json_type(patch) = 'object'),
    -- books.server_version when the first unsynced edit was made: the server compares it to find
    -- fields another device changed meanwhile. NULL = the server has never seen the book.
    base_version INTEGER,
    -- Hybrid-logical-clock stamp of the latest coalesced change (hlc.rs); sorts as text.
    hlc          TEXT    NOT NULL,
    -- UUIDv7, new on every coalescing change: the server's per-device ledger answers a retried
    -- batch "duplicate", and the push acknowledges only the exact mutation it sent.
    mutation_id  TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Push order: oldest pending edit first.
CREATE INDEX outbox_by_age ON outbox (created_at, book_id);

-- Small key/value facts about this database: `device_id` (UUIDv7, made on first open), `hlc`
-- (the clock's last stamp); later the pull cursor and last sync time.
CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
