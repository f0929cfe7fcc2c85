-- stack/seed.sql: the seed app's books (The Hobbit and Dune) for the local stack's test users.
-- Local only; run as the superuser after migrations/. The user ids are the `sub` values the
-- stack's OpenID provider (stack/idp/server.mjs) issues, shaped like Clerk's `user_…` ids.

insert into public.profiles (id, email, display_name) values
  ('user_alice2bW9kQ4mX7rT1nV8', 'alice@bookwish.test', 'Alice Liddell'),
  ('user_bob2cX8jP3nW6sR0mU7e', 'bob@bookwish.test', 'Bob Builder');

insert into public.books (id, user_id, title, author, status, notes, rating, started_on, finished_on) values
  ('01936a3c-0000-7000-8000-00000000a001', 'user_alice2bW9kQ4mX7rT1nV8', 'The Hobbit',
   'J.R.R. Tolkien', 'Finished', 'There and back again.', 5, '2024-01-02', '2024-01-20'),
  ('01936a3c-0000-7000-8000-00000000a002', 'user_alice2bW9kQ4mX7rT1nV8', 'Dune',
   'Frank Herbert', 'Reading', 'Fear is the mind-killer.', null, '2024-02-01', null),
  ('01936a3c-0000-7000-8000-00000000b001', 'user_bob2cX8jP3nW6sR0mU7e', 'The Hobbit',
   'J.R.R. Tolkien', 'Wishlist', '', null, null, null),
  ('01936a3c-0000-7000-8000-00000000b002', 'user_bob2cX8jP3nW6sR0mU7e', 'Dune',
   'Frank Herbert', 'Finished', 'Read it twice.', 4, '2023-06-01', '2023-07-15');
