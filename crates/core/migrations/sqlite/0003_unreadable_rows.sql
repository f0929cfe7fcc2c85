-- Rows pulled from the server that this version of Bookwish cannot store: a value the local
-- rules refuse (a date such as 'infinity', a title of 600 characters) or a row it cannot decode.
-- Such a row is kept here for the user to see, and the pull goes on past it: one bad value never
-- stops sync. A later readable version of the same book replaces it.
CREATE TABLE unreadable (
    id          INTEGER PRIMARY KEY,
    -- The book, when the row carried a readable id.
    book_id     TEXT    UNIQUE,
    -- The row's server version, when readable.
    version     INTEGER,
    -- The row as the server sent it (JSON text, cut to a few kilobytes).
    raw         TEXT    NOT NULL,
    -- Why it was refused, in words.
    reason      TEXT    NOT NULL,
    -- Milliseconds since the Unix epoch.
    seen_at     INTEGER NOT NULL
) STRICT;
