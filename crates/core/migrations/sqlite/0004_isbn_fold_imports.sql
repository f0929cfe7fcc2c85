-- The ISBN field, accent-insensitive folded columns, and what an import needs to be undone.
--
-- Applied with a Rust hook in the same transaction (schema.rs): SQLite cannot call Rust's fold,
-- so after this SQL the hook rewrites `title_fold` / `author_fold` of every book with
-- `crate::fold::fold` (accents, ligatures and case folded) in place of 0001's `to_lowercase`.
-- Until the transaction commits no reader sees a half-folded table.

-- The book's ISBN-13: 13 digits, 978 or 979 first, a valid EAN-13 check digit (validate.rs
-- converts an ISBN-10 and refuses a wrong check digit before anything is written; this CHECK is
-- the last line of defence, as the server's books_isbn_check is). NULL = no ISBN.
ALTER TABLE books ADD COLUMN isbn TEXT CHECK (
    isbn IS NULL OR (
        length(isbn) = 13
        AND isbn GLOB '97[89][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
        AND (  substr(isbn, 1, 1) + 3 * substr(isbn, 2, 1) + substr(isbn, 3, 1)
             + 3 * substr(isbn, 4, 1) + substr(isbn, 5, 1) + 3 * substr(isbn, 6, 1)
             + substr(isbn, 7, 1) + 3 * substr(isbn, 8, 1) + substr(isbn, 9, 1)
             + 3 * substr(isbn, 10, 1) + substr(isbn, 11, 1) + 3 * substr(isbn, 12, 1)
             + substr(isbn, 13, 1)) % 10 = 0
    )
);

-- Finding a live book by its ISBN (import matching, an ISBN typed in full).
CREATE INDEX books_by_isbn ON books (isbn) WHERE deleted = 0 AND isbn IS NOT NULL;

-- One row per import from a file, so the whole import can be undone at once.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    -- Which program wrote the file ('Goodreads', 'StoryGraph', 'BookwishCsv', 'BookwishJson').
    format      TEXT    NOT NULL,
    -- Milliseconds since the Unix epoch.
    imported_at INTEGER NOT NULL,
    -- When the import was undone (ms), NULL while it stands: an import is undone at most once.
    undone_at   INTEGER
) STRICT;

-- What one import did to one book: added it, or updated it from `before` to `after` (JSON
-- objects of the changed fields, as outbox patches). Undo deletes the books it added and puts
-- back, field by field, the values it changed that nobody changed again since.
CREATE TABLE import_changes (
    import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    book_id   TEXT    NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('added', 'updated')),
    before    TEXT    CHECK (before IS NULL OR json_valid(before)),
    after     TEXT    CHECK (after IS NULL OR json_valid(after)),
    PRIMARY KEY (import_id, book_id)
) STRICT, WITHOUT ROWID;
