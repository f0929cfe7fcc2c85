-- The list's indexes without a copy of the book id: ties are broken by the rowid.
--
-- Every entry of a SQLite index ends with its row's rowid, and the planner orders by it: an
-- index on (created_at), scanned backwards, returns books newest first and, within one
-- millisecond (or one Date Added of an import), the one written last first, as
-- `ORDER BY created_at DESC, rowid DESC` asks; the title and author indexes return ties oldest
-- written first. That is the order 0001's indexes gave, whose tie-breaker was the id (a UUIDv7,
-- ordered by when this device made it); but they repeated the 36-character id in each of four
-- indexes, before the rowid every entry carries anyway: about half of their bytes, and of the
-- time it takes to build them after a first download into an empty list. A rowid is stable: an
-- update keeps it, the upsert of a pulled row keeps it (ON CONFLICT DO UPDATE), nothing runs
-- VACUUM, and a backup copies pages. Books pulled from another device are ordered by when they
-- arrived (the server's commit order) rather than by ids made elsewhere.
--
-- The queries' ORDER BY changes with them (`table/books.rs`, `order_by`); each still matches
-- an index column for column, so the list is read in index order without a sort.
DROP INDEX books_recent;
DROP INDEX books_by_title;
DROP INDEX books_by_author;
DROP INDEX books_by_status;

CREATE INDEX books_recent ON books (created_at) WHERE deleted = 0;
CREATE INDEX books_by_title ON books (title_fold, title, created_at) WHERE deleted = 0;
-- `author_fold = ''` first: books without an author go after every named author.
CREATE INDEX books_by_author
    ON books (author_fold = '', author_fold, title_fold, title, created_at)
    WHERE deleted = 0;
-- The status filter in the default order, and the per-status counts (covering).
CREATE INDEX books_by_status ON books (status, created_at) WHERE deleted = 0;
