-- What the sync engine keeps for the user to review, and its re-download bookkeeping.
--
-- `IF NOT EXISTS` because development builds before this migration created the same tables from
-- the sync crate at run time; on every other database these are plain creates.

-- A field both this device and another changed before either synced: the later clock won
-- (DESIGN §5); the losing value stays here until the user keeps, swaps or dismisses it.
CREATE TABLE IF NOT EXISTS conflicts (
    id           INTEGER PRIMARY KEY,
    book_id      TEXT    NOT NULL,
    -- A synced field name, or 'deleted' for a delete that beat an edit.
    field        TEXT    NOT NULL,
    -- JSON: the value the book kept, and the one that lost (shown to the user to pick from).
    kept_value   TEXT    NOT NULL,
    lost_value   TEXT    NOT NULL,
    -- 'client': this device's edit won; 'server': another device's value was kept.
    winner       TEXT    NOT NULL CHECK (winner IN ('client', 'server')),
    -- Milliseconds since the Unix epoch.
    detected_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS conflicts_by_book ON conflicts (book_id);

-- A change the server refused (RLS, a CHECK, an id taken): it left the outbox so the queue keeps
-- moving, and waits here for the user to fix and re-apply or discard.
CREATE TABLE IF NOT EXISTS rejections (
    id           INTEGER PRIMARY KEY,
    book_id      TEXT    NOT NULL,
    mutation_id  TEXT    NOT NULL UNIQUE,
    -- JSON object of the fields the server refused, so the user can fix and apply them again.
    patch        TEXT    NOT NULL,
    -- The server's stable code and readable reason.
    code         TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    rejected_at  INTEGER NOT NULL
) STRICT;

-- Ids seen during a full re-download (after the server purged tombstones past this device's
-- cursor), so books the server no longer has can be dropped when it ends.
CREATE TABLE IF NOT EXISTS sync_resync_seen (id TEXT PRIMARY KEY NOT NULL) STRICT, WITHOUT ROWID;
