//! Issue 11.5 and 12.2: the local stack behaves like hosted Supabase where it matters (a
//! non-superuser owner applied the migrations, the API roles' statement timeouts reach the
//! role-less Clerk token path), and the pull is PostgREST's own keyset read.

use bookwish_stack::{ALICE, BOB, DAVE, SESSION_CLIENT_ID};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{audit, seq_of, sql, stack, Api, Device};

#[tokio::test]
async fn migrations_are_applied_by_a_non_superuser_owner_like_hosted_supabase() {
    let role = sql(
        "select format('super=%s bypassrls=%s createrole=%s createdb=%s replication=%s login=%s', \
                rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin) \
           from pg_roles where rolname = 'postgres'",
    )
    .await;
    let owners = sql(
        "select string_agg(distinct pg_get_userbyid(relowner), ',') from pg_class \
          where relnamespace in ('public'::regnamespace, 'app'::regnamespace) \
            and relkind in ('r', 'v', 'i')",
    )
    .await;
    let function_owners = sql(
        "select string_agg(distinct pg_get_userbyid(proowner), ',') from pg_proc \
          where pronamespace in ('public'::regnamespace, 'app'::regnamespace) \
            and proname not like 'test\\_%'",
    )
    .await;
    audit(
        "40 the migrations' role is hosted Supabase's postgres",
        "not a superuser; bypassrls, createrole, createdb, replication; owns every table and function",
        format!("{role}; tables {owners}; functions {function_owners}"),
        role == "super=f bypassrls=t createrole=t createdb=t replication=t login=t"
            && owners == "postgres"
            && function_owners == "postgres",
    );
    let timeouts = sql(
        "select string_agg(rolname || ' ' || array_to_string(rolconfig, ' '), '; ' order by rolname) \
           from pg_roles where rolname in ('anon', 'authenticated', 'authenticator')",
    )
    .await;
    assert_eq!(
        timeouts,
        "anon statement_timeout=3s; authenticated statement_timeout=8s; \
         authenticator statement_timeout=8s lock_timeout=8s \
         pgrst.db_pre_request=app.refuse_deleted_account",
        "the API roles carry hosted Supabase's timeouts (and the operator's pre-request check)"
    );
}

/// Installs the test-only RPCs below (once) and waits until PostgREST serves them.
async fn install_probes() {
    static ONCE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    ONCE.get_or_init(|| async {
        sql(
            "create or replace function public.test_request_settings() returns json \
               language sql stable as $$ select json_build_object('role', current_user, \
               'statement_timeout', current_setting('statement_timeout')) $$; \
             create or replace function public.test_sleep(seconds float8) returns int \
               language sql volatile as $$ select 1 from pg_sleep(seconds) $$; \
             notify pgrst, 'reload schema'",
        )
        .await;
        let api = Api::new(None).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while api.get("/rpc/test_request_settings").await.status != StatusCode::OK {
            assert!(
                std::time::Instant::now() < deadline,
                "PostgREST must load the probes"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn role_less_clerk_tokens_run_under_anons_3s_timeout_and_session_tokens_under_8s() {
    install_probes().await;
    let s = stack().await;
    let oauth = s
        .login(BOB.username, BOB.password)
        .await
        .expect("bob signs in");
    let session = s
        .login_client(SESSION_CLIENT_ID, BOB.username, BOB.password)
        .await
        .expect("bob signs in with a session token");
    for (case, token, expected) in [
        (
            "41 role-less (Clerk OAuth) token",
            oauth.access_token.as_str(),
            json!({"role": "anon", "statement_timeout": "3s"}),
        ),
        (
            "42 session token (role authenticated)",
            session.access_token.as_str(),
            json!({"role": "authenticated", "statement_timeout": "8s"}),
        ),
    ] {
        let reply = Api::new(Some(token))
            .await
            .get("/rpc/test_request_settings")
            .await;
        audit(
            case,
            &expected.to_string(),
            reply.body.to_string(),
            reply.body == expected,
        );
    }
    let started = std::time::Instant::now();
    let slow = Api::new(Some(&oauth.access_token))
        .await
        .get("/rpc/test_sleep?seconds=5")
        .await;
    audit(
        "43 a role-less token's 5 s statement",
        "HTTP 500, code 57014 (statement timeout) after about 3 s",
        format!(
            "{} after {:?}",
            crate::support::brief(&slow),
            started.elapsed()
        ),
        slow.status == StatusCode::INTERNAL_SERVER_ERROR && slow.body["code"] == "57014",
    );
}

/// PostgREST's own plan of a request (db-plan-enabled on the test stack).
async fn postgrest_plan(api: &Api, path: &str) -> String {
    let reply = api
        .get_with(
            path,
            &[(
                "Accept",
                "application/vnd.pgrst.plan+text; for=\"application/json\"; options=analyze|buffers|verbose",
            )],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "PostgREST explains its query: {reply:?}"
    );
    match reply.body {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

#[tokio::test]
async fn the_pull_is_postgrests_own_keyset_read_with_the_claim_read_once() {
    let dave = Api::as_user(DAVE).await;
    let mut device = Device::new();
    let start = seq_of(DAVE.sub).await;
    let batch: Vec<Value> = (0..1200)
        .map(|i| {
            device.mutation(
                crate::support::book_id(),
                None,
                json!({"title": format!("Page {i}")}),
            )
        })
        .collect();
    for chunk in batch.chunks(600) {
        let results = dave.push_ok(device.id, chunk).await;
        assert!(
            results.iter().all(|r| r["result"] == "applied"),
            "bulk pushes apply"
        );
    }
    // Other users' rows, as on any real server, so the planner weighs the index as it would
    // at scale (on a nearly empty table a sequential scan is cheaper, and right).
    sql("insert into books (id, user_id, title) \
         select gen_random_uuid(), 'user_crowd' || (g % 50), 'Crowd ' || g \
         from generate_series(1, 20000) g; analyze books")
    .await;
    let plan = postgrest_plan(
        &dave,
        &format!(
            "/sync_rows?select=*&version=gt.{}&order=version&limit=1000",
            start + 100
        ),
    )
    .await;
    eprintln!("PostgREST's plan of a sync_rows page:\n{plan}");
    let per_row_claim = plan
        .lines()
        .any(|l| l.contains("Filter") && l.contains("user_id()"));
    audit(
        "44 a sync_rows page as PostgREST runs it",
        "one index scan of books_user_version from the cursor, the claim an InitPlan, no function per row",
        plan.lines()
            .filter(|l| l.contains("Index") || l.contains("InitPlan") || l.contains("Limit"))
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("; "),
        plan.contains("books_user_version") && plan.contains("InitPlan") && !per_row_claim,
    );
    let big = dave
        .get(&format!(
            "/sync_rows?select=id&version=gt.{start}&order=version&limit=5000"
        ))
        .await;
    assert_eq!(
        big.body.as_array().map(Vec::len),
        Some(1000),
        "a page holds at most 1000 rows, whatever limit asks for"
    );
    let page = dave.rows(start, 1000).await;
    let row = page
        .body
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["title"] == "Page 0"))
        .and_then(Value::as_object)
        .expect("the first pushed row");
    let mut keys: Vec<&str> = row.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "author",
            "created_at",
            "created_at_ms",
            "deleted",
            "finished_on",
            "hlc",
            "id",
            "isbn",
            "notes",
            "rating",
            "started_on",
            "status",
            "title",
            "updated_at",
            "updated_at_ms",
            "version"
        ],
        "a pulled row carries what clients use and nothing else (no user_id, no field_versions; \
         the times as text for clients before 0010 and as milliseconds since)"
    );
    assert!(
        row["hlc"]
            .as_str()
            .is_some_and(|h| h.ends_with(&device.id.to_string())),
        "hlc is the pushing device's latest stamp: {row:?}"
    );
    let alice_sees = Api::as_user(ALICE).await.rows(start, 1000).await;
    assert!(
        alice_sees.body.as_array().is_some_and(|rows| rows
            .iter()
            .all(|r| !r["title"].as_str().unwrap_or("").starts_with("Page "))),
        "another user's keyset read sees none of dave's rows"
    );
}

#[tokio::test]
async fn the_push_runs_without_the_jit_compiler() {
    // The planner guesses thousands of rows for unnest() of a batch and jsonb_each() of each
    // patch, so the statement that plans a batch crossed jit_above_cost and compiled code for
    // 45 ms of a 1,000-edit push that takes 200 ms without it (migrations/0007_stamps.sql,
    // above its `alter function`).
    let config = sql(
        "select coalesce(array_to_string(proconfig, ','), '') from pg_proc \
          where oid = 'public.sync_push(uuid, jsonb)'::regprocedure",
    )
    .await;
    audit(
        "45 sync_push's own settings",
        "jit=off (a push is at most 1,000 mutations, where compiling never pays)",
        config.clone(),
        config.split(',').any(|setting| setting == "jit=off"),
    );
}

#[tokio::test]
async fn the_pushs_date_check_is_inlined_not_called_once_per_mutation() {
    // app.apply_batch checks each mutation's date texts with app.date_rejection(patch). Declared
    // IMMUTABLE over a body that calls format() (STABLE), it could not be inlined, and its call
    // per mutation was ≈ 40 ms of a 1,000-edit push (migrations/0008_push_inline.sql).
    let plan = sql("explain (verbose, costs off) \
         select app.date_rejection(pg_catalog.jsonb_build_object('title', g::text)) \
           from pg_catalog.generate_series(1, 2) as g")
    .await;
    assert!(
        !plan.contains("date_rejection") && plan.contains("started_on"),
        "app.date_rejection is inlined into the query that calls it (the plan shows its body, \
         not a call per row):\n{plan}"
    );
}
