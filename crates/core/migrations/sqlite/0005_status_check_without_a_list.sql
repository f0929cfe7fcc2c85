-- The status CHECK as three comparisons instead of an `IN` list; the same rule.
--
-- SQLite checks `status IN ('Wishlist', 'Reading', 'Finished')` (an `IN` list of three or more
-- values) by first building a temporary b-tree of the list, and it builds it again each time a
-- statement runs, i.e. for every book written. That was about a third of writing 100,000 pulled
-- books (and of every edit's insert or update). `=` … `OR` compares in place. Both accept exactly
-- the three statuses; a NULL cannot occur (NOT NULL) and would pass either.
--
-- SQLite cannot alter a CHECK. The table's definition is edited in `sqlite_schema`, SQLite's
-- documented procedure for a change that leaves every stored row as it is
-- (https://sqlite.org/lang_altertable.html#otheralter): a rebuild of the table would copy every
-- row and, with foreign keys on, drop the outbox with the old table. `writable_schema = RESET`
-- makes this connection read the definition again; the hook in schema.rs then bumps
-- `PRAGMA schema_version`, so every other connection does too.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql,
                     'CHECK (status IN (''Wishlist'', ''Reading'', ''Finished''))',
                     'CHECK (status = ''Wishlist'' OR status = ''Reading'' OR status = ''Finished'')')
 WHERE type = 'table' AND name = 'books';
PRAGMA writable_schema = RESET;
