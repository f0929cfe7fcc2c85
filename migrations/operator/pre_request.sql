-- pre_request.sql: run ONCE per project, by the operator, as the platform's superuser — in the
-- Supabase dashboard's SQL editor (which runs as supabase_admin), not through `supabase db push`:
-- hosted Supabase reserves the role `authenticator` to its superuser, so a migration applied by
-- `postgres` cannot change it. The local stack runs this file as its superuser after migrations/.
--
-- From then on PostgREST calls app.refuse_deleted_account() (migrations/0006_hooks.sql) before
-- every request: a token of an account deleted in Clerk gets HTTP 403 with code BW403 and the
-- message "this account was deleted", which the app turns into "this account no longer exists".

alter role authenticator set pgrst.db_pre_request = 'app.refuse_deleted_account';
notify pgrst, 'reload config';
