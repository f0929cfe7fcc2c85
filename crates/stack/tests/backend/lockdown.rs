//! Issue 11.1 and 11.2: a caller without a verified `sub` sees and locks nothing, every policy
//! reads the claim once per statement, and `books` refuses every value the app refuses, however
//! it is written.

use bookwish_stack::{ALICE, CAROL};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_postgres::NoTls;
use uuid::Uuid;

use crate::support::{
    audit, book_id, books_with_id, brief, seq_of, sql, stack, Api, Device, ScratchDb,
};

const ALICE_HOBBIT: &str = "01936a3c-0000-7000-8000-00000000a001";

/// Every table and view a client can name, with a row body to try inserting.
fn tables() -> Vec<(&'static str, Value)> {
    vec![
        (
            "books",
            json!({"id": book_id(), "user_id": ALICE.sub, "title": "Planted"}),
        ),
        (
            "profiles",
            json!({"id": ALICE.sub, "display_name": "Not Alice"}),
        ),
        ("sync_state", json!({"user_id": ALICE.sub, "seq": 0})),
        (
            "sync_ledger",
            json!({"user_id": ALICE.sub, "device_id": Uuid::now_v7()}),
        ),
        (
            "sync_rows",
            json!({"id": book_id(), "title": "Through the view"}),
        ),
    ]
}

/// A user of this test's own with a row in every per-user table, written as the server owner
/// (tests running beside this one write other users' rows, so a snapshot of every row would
/// race them; a request without a token that could change anything, unfiltered as these are,
/// would change these rows too). Returns the user id.
async fn canary() -> String {
    let user = format!("user_canary{}", Uuid::new_v4().simple());
    sql(&format!(
        "insert into books (id, user_id, title) values ('{}', '{user}', 'Canary'); \
         insert into profiles (id, display_name) values ('{user}', 'Canary'); \
         insert into sync_ledger (user_id, device_id) values ('{user}', '{}')",
        book_id(),
        Uuid::now_v7()
    ))
    .await;
    user
}

/// The canary's rows, and whatever a request without a token tried to plant or backdate.
async fn snapshot(user: &str) -> String {
    sql(&format!(
        "select md5(string_agg(t, ',' order by t)) from (\
           select b::text as t from books b where user_id = '{user}' \
           union all select p::text from profiles p where id = '{user}' \
           union all select s::text from sync_state s where user_id = '{user}' \
           union all select l::text from sync_ledger l where user_id = '{user}' \
           union all select 'planted ' || count(*) from books \
                      where title in ('Planted', 'Through the view') or updated_at < '2001-01-01' \
           union all select 'planted ' || count(*) from profiles \
                      where display_name = 'Not Alice' or updated_at < '2001-01-01' \
           union all select 'planted ' || count(*) from sync_ledger \
                      where updated_at < '2001-01-01') x"
    ))
    .await
}

#[tokio::test]
async fn no_token_reads_writes_and_calls_nothing_on_any_table_or_rpc() {
    let anon = Api::new(None).await;
    let user = canary().await;
    let before = snapshot(&user).await;
    for (table, row) in tables() {
        let read = anon.get(&format!("/{table}")).await;
        audit(
            &format!("30 no token: GET /{table}"),
            "200 [] (or refused): nothing of anyone's",
            brief(&read),
            read.body == json!([]) || matches!(read.status.as_u16(), 401 | 403),
        );
        let insert = anon.post(&format!("/{table}"), &row).await;
        audit(
            &format!("31 no token: POST /{table}"),
            "401/403, nothing stored",
            brief(&insert),
            matches!(insert.status.as_u16(), 401 | 403),
        );
        let update = anon
            .patch(
                &format!("/{table}?select=*"),
                &json!({"updated_at": "2000-01-01T00:00:00Z"}),
            )
            .await;
        audit(
            &format!("32 no token: PATCH /{table}"),
            "no row matched ([]) or refused",
            brief(&update),
            update.body == json!([]) || matches!(update.status.as_u16(), 400 | 401 | 403),
        );
        let delete = anon.delete(&format!("/{table}")).await;
        audit(
            &format!("33 no token: DELETE /{table}"),
            "refused or no row matched",
            brief(&delete),
            delete.body == json!([]) || matches!(delete.status.as_u16(), 401 | 403 | 405),
        );
    }
    for (rpc, body) in [
        (
            "sync_push",
            json!({"device_id": Uuid::now_v7(), "mutations": []}),
        ),
        ("sync_pull", json!({"after": 0, "max": 10})),
    ] {
        let reply = anon.post(&format!("/rpc/{rpc}"), &body).await;
        audit(
            &format!("34 no token: rpc {rpc}"),
            "401",
            brief(&reply),
            reply.status == StatusCode::UNAUTHORIZED,
        );
    }
    let after = snapshot(&user).await;
    assert_eq!(
        before, after,
        "no request without a verified sub may change any table"
    );
}

async fn raw(sub: Option<&str>) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&stack().await.db_url(), NoTls)
        .await
        .expect("a raw connection to the stack's PostgreSQL");
    tokio::spawn(connection);
    let claims = sub.map_or(String::new(), |sub| json!({ "sub": sub }).to_string());
    client
        .execute(
            "select set_config('request.jwt.claims', $1, false)",
            &[&claims],
        )
        .await
        .expect("set the claims PostgREST would set");
    client
        .batch_execute("set role anon")
        .await
        .expect("act as PostgREST's anon role");
    client
}

#[tokio::test]
async fn a_no_token_write_never_waits_on_or_takes_a_users_counter_lock() {
    // Carol is mid-push: her transaction holds her version lock (as a big batch would).
    let carol = raw(Some(CAROL.sub)).await;
    let mut device = Device::new();
    carol.batch_execute("begin").await.expect("begin");
    let m = device.mutation(book_id(), None, json!({"title": "Mine"}));
    carol
        .query_one("select sync_push($1, $2)", &[&device.id, &json!([m])])
        .await
        .expect("carol's push runs");

    // A request without a token names carol as the owner of a new book. It must be refused at
    // once: waiting on carol's lock (or taking it) would let anyone stall her pushes.
    let id = book_id();
    let reply = Api::new(None)
        .await
        .post(
            "/books",
            &json!({"id": id, "user_id": CAROL.sub, "title": "Planted"}),
        )
        .await;
    carol.batch_execute("commit").await.expect("commit");
    audit(
        "35 no token: POST /books naming carol while her push holds her version lock",
        "401 at once, nothing stored (never waits for or takes carol's lock)",
        brief(&reply),
        matches!(reply.status.as_u16(), 401 | 403) && books_with_id(id).await == 0,
    );

    // And a refused no-token insert takes none of her versions.
    let seq = seq_of(CAROL.sub).await;
    let again = Api::new(None)
        .await
        .post(
            "/books",
            &json!({"id": book_id(), "user_id": CAROL.sub, "title": "Planted"}),
        )
        .await;
    assert!(
        matches!(again.status.as_u16(), 401 | 403),
        "refused: {again:?}"
    );
    assert_eq!(
        seq_of(CAROL.sub).await,
        seq,
        "a refused no-token insert takes none of carol's versions"
    );
}

/// The plan of `query` run as anon with `sub`'s claims.
async fn plan(sub: &str, query: &str) -> String {
    stack()
        .await
        .psql_as("anon", Some(sub), &format!("explain (verbose) {query}"))
        .await
        .unwrap_or_else(|e| panic!("explain {query}: {e}"))
}

#[tokio::test]
async fn every_policy_reads_the_claim_once_per_statement() {
    sql("analyze books; analyze profiles; analyze sync_state; analyze sync_ledger").await;
    for (what, query) in [
        (
            "books select",
            "select * from books where version > 0 order by version limit 1000".to_owned(),
        ),
        (
            "books update",
            format!("update books set notes = notes where id = '{ALICE_HOBBIT}'"),
        ),
        ("profiles select", "select * from profiles".to_owned()),
        ("sync_state select", "select * from sync_state".to_owned()),
        ("sync_ledger select", "select * from sync_ledger".to_owned()),
        (
            "sync_rows keyset page",
            "select * from sync_rows where version > 0 order by version limit 1000".to_owned(),
        ),
    ] {
        let plan = plan(ALICE.sub, &query).await;
        let per_row = plan
            .lines()
            .any(|l| l.contains("Filter") && l.contains("user_id()"));
        audit(
            &format!("36 policy of {what}: the claim is read once (InitPlan)"),
            "InitPlan, no per-row app.user_id() filter",
            plan.lines()
                .filter(|l| l.contains("InitPlan") || l.contains("Cond") || l.contains("Filter"))
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("; "),
            plan.contains("InitPlan") && !per_row,
        );
    }
}

#[tokio::test]
async fn books_refuse_every_value_the_app_refuses() {
    // Alice: bob's counter is watched by the bad-input tests running alongside.
    let bob = Api::as_user(ALICE).await;
    let mut device = Device::new();
    let id = book_id();
    let created = bob
        .post(
            "/books",
            &json!({"id": id, "title": "Solaris", "started_on": "2024-01-10"}),
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "a valid book is stored: {created:?}"
    );
    let row = || async {
        sql(&format!(
            "select row(b.*)::text from books b where id = '{id}'"
        ))
        .await
    };
    let before = row().await;

    let refused: Vec<(&str, Value, &str)> = vec![
        (
            "started_on infinity",
            json!({"started_on": "infinity"}),
            "books_started_on_check",
        ),
        (
            "started_on -infinity",
            json!({"started_on": "-infinity"}),
            "books_started_on_check",
        ),
        (
            "finished_on 10000-01-01",
            json!({"finished_on": "10000-01-01"}),
            "books_finished_on_check",
        ),
        (
            "started_on 0044-03-15 BC",
            json!({"started_on": "0044-03-15 BC"}),
            "books_started_on_check",
        ),
        (
            "finished before started",
            json!({"finished_on": "2024-01-09"}),
            "books_dates_check",
        ),
        (
            "title with a line break",
            json!({"title": "Sol\naris"}),
            "books_title_form_check",
        ),
        (
            "title with a tab",
            json!({"title": "Sol\taris"}),
            "books_title_form_check",
        ),
        (
            "title with spaces around",
            json!({"title": " Solaris "}),
            "books_title_form_check",
        ),
        (
            "title with a no-break space at the end",
            json!({"title": "Solaris\u{a0}"}),
            "books_title_form_check",
        ),
        ("blank title", json!({"title": "\u{3000}"}), "books_title"),
        ("empty title", json!({"title": ""}), "books_title_check"),
        (
            "title of 501",
            json!({"title": "t".repeat(501)}),
            "books_title_check",
        ),
        (
            "author with a bell",
            json!({"author": "Lem\u{7}"}),
            "books_author_form_check",
        ),
        (
            "author of 301",
            json!({"author": "a".repeat(301)}),
            "books_author_check",
        ),
        (
            "notes with a carriage return",
            json!({"notes": "a\rb"}),
            "books_notes_form_check",
        ),
        (
            "notes with an escape",
            json!({"notes": "a\u{1b}[31m"}),
            "books_notes_form_check",
        ),
        (
            "notes of 10001",
            json!({"notes": "n".repeat(10_001)}),
            "books_notes_check",
        ),
        (
            "status Abandoned",
            json!({"status": "Abandoned"}),
            "books_status_check",
        ),
        ("rating 0", json!({"rating": 0}), "books_rating_check"),
        ("rating 6", json!({"rating": 6}), "books_rating_check"),
    ];
    for (label, patch, rule) in &refused {
        let reply = bob.patch(&format!("/books?id=eq.{id}"), patch).await;
        audit(
            &format!("37 PATCH /books {label}"),
            &format!("400 {rule}, row unchanged"),
            brief(&reply),
            reply.status == StatusCode::BAD_REQUEST
                && reply.message().contains(rule)
                && row().await == before,
        );
    }
    // The same values through sync_push are rejected one by one, with a reason.
    for (label, patch, _) in &refused {
        let results = bob
            .push_ok(device.id, &[device.mutation(id, Some(1), patch.clone())])
            .await;
        assert_eq!(
            results[0]["result"], "rejected",
            "sync_push must reject {label}: {}",
            results[0]
        );
        assert!(
            results[0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty() && m.len() <= 300),
            "the rejection of {label} says why, briefly: {}",
            results[0]
        );
    }
    assert_eq!(row().await, before, "no refused value reached the row");

    // And everything the app accepts is stored.
    for (label, patch) in [
        (
            "the first and last dates",
            json!({"started_on": "0001-01-01", "finished_on": "9999-12-31"}),
        ),
        (
            "a leap day",
            json!({"started_on": "2024-02-29", "finished_on": "2024-02-29"}),
        ),
        ("500 accented characters", json!({"title": "é".repeat(500)})),
        (
            "inner spaces and symbols",
            json!({"title": "Solaris — a  novel \u{200b}", "author": "Stanisław Lem"}),
        ),
        (
            "notes with line breaks and tabs",
            json!({"notes": "one\n\ttwo\n"}),
        ),
        (
            "no dates, no rating",
            json!({"started_on": null, "finished_on": null, "rating": null}),
        ),
    ] {
        let reply = bob.patch(&format!("/books?id=eq.{id}"), &patch).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{label} is what the app accepts and must be stored: {reply:?}"
        );
    }
    let pulled = bob.rows_all(0, 1000).await;
    for r in &pulled {
        for field in ["started_on", "finished_on"] {
            if let Some(date) = r[field].as_str() {
                assert!(
                    date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
                    "every pulled date is YYYY-MM-DD: {r}"
                );
            }
        }
    }
}

#[tokio::test]
async fn rows_stored_before_the_rules_are_repaired_by_the_migration() {
    // A database of its own in the stack's cluster: 0001 and 0002, bad rows as an older server
    // let them in, then 0003 and on.
    let db = ScratchDb::new("repair").await;
    db.migrate(0, 2).await;
    db.sql("insert into books (id, user_id, title, author, notes, started_on, finished_on) values \
           ('00000000-0000-7000-8000-000000000001', 'user_old', e' Padded\\ttitle ', 'Ok', e'a\\r\\nb\\u0007', 'infinity', null), \
           ('00000000-0000-7000-8000-000000000002', 'user_old', 'Ancient', '', '', '0044-03-15 BC', '10000-01-01'), \
           ('00000000-0000-7000-8000-000000000003', 'user_old', 'Fine', '', '', '2024-01-01', '2024-02-01')")
        .await;
    let seq_before = db
        .sql("select seq from sync_state where user_id = 'user_old'")
        .await;
    db.migrate(2, usize::MAX).await;
    let rows = db
        .sql("select string_agg(format('%s|%s|%s|%s|%s', title, notes, coalesce(started_on::text, '-'), coalesce(finished_on::text, '-'), version > 3), ';' order by id) from books")
        .await;
    let kept = db.sql("select count(*) from app.book_repairs").await;
    db.drop_now().await;
    assert_eq!(
        rows,
        "Padded title|a\nb|-|-|t;Ancient||-|-|t;Fine||2024-01-01|2024-02-01|f",
        "bad rows are repaired to the nearest value the app accepts and get new versions (seq was {seq_before}); good rows are untouched"
    );
    assert_eq!(
        kept, "2",
        "the two repaired rows' previous values are kept in app.book_repairs"
    );
}
