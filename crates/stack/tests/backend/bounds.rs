//! Issue 11.3 and 11.4 (server side): bounded requests, answers and ledgers; deletes that never
//! come back; tombstones purged with a horizon clients can see.

use bookwish_stack::{CAROL, DAVE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{book_id, books_with_id, sql, stack, Api, Device};

fn version(result: &Value) -> i64 {
    result["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("an applied mutation reports its version: {result}"))
}

async fn ledger_bytes(device: Uuid) -> i64 {
    sql(&format!(
        "select coalesce(sum(pg_column_size(last_results)), 0) from sync_ledger where device_id = '{device}'"
    ))
    .await
    .parse()
    .expect("a size")
}

#[tokio::test]
async fn a_stranger_sized_push_gets_a_clear_error_and_stores_nothing() {
    let bob = Api::as_user(DAVE).await;
    let mut device = Device::new();
    let ids: Vec<Uuid> = (0..3).map(|_| book_id()).collect();
    let batch: Vec<Value> = ids
        .iter()
        .map(|id| {
            device.mutation(
                *id,
                None,
                json!({"title": "Huge", "notes": "n".repeat(1 << 20)}),
            )
        })
        .collect();
    let reply = bob.push(device.id, &batch).await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "a 3 MiB batch is refused as a whole: {}",
        reply.message()
    );
    assert!(
        reply.message().contains("at most 2097152"),
        "the error names the limit: {}",
        reply.message()
    );
    let ledger: i64 = sql(&format!(
        "select count(*) from sync_ledger where device_id = '{}'",
        device.id
    ))
    .await
    .parse()
    .expect("a count");
    assert_eq!(ledger, 0, "a refused call leaves no ledger row");
    for id in ids {
        assert_eq!(books_with_id(id).await, 0, "and stores no book");
    }
}

#[tokio::test]
async fn a_refused_or_losing_value_is_never_echoed_or_kept_at_full_size() {
    let bob = Api::as_user(DAVE).await;
    let (mut a, mut b) = (Device::new(), Device::new());

    // A 200 KB date string: rejected, quoted briefly, kept briefly.
    let huge_date = "2".repeat(200_000);
    let reply = bob
        .push(
            a.id,
            &[a.mutation(
                book_id(),
                None,
                json!({"title": "Dated", "started_on": huge_date}),
            )],
        )
        .await;
    let text = reply.body.to_string();
    assert_eq!(
        reply.body["results"][0]["result"],
        "rejected",
        "an unreadable date is rejected: {}",
        &text[..text.len().min(300)]
    );
    assert!(
        text.len() < 2_000,
        "the answer does not echo the 200 KB value ({} bytes)",
        text.len()
    );
    assert!(
        ledger_bytes(a.id).await < 2_000,
        "the ledger keeps the answer briefly ({} bytes)",
        ledger_bytes(a.id).await
    );

    // A losing 9,000-character value in a conflict: not echoed, not kept.
    let id = book_id();
    let base = version(
        &bob.push_ok(a.id, &[a.mutation(id, None, json!({"title": "Contested"}))])
            .await[0],
    );
    let early = b.stamp_at(crate::support::now_ms() - 60_000);
    bob.push_ok(
        a.id,
        &[a.mutation(id, Some(base), json!({"notes": "the winner"}))],
    )
    .await;
    let losing = "l".repeat(9_000);
    let results = bob
        .push_ok(
            b.id,
            &[b.mutation_stamped(id, Some(base), json!({"notes": losing}), early)],
        )
        .await;
    let conflict = &results[0]["conflicts"][0];
    assert_eq!(
        conflict["winner"], "server",
        "the earlier stamp loses: {conflict}"
    );
    assert_eq!(
        conflict["server_value"], "the winner",
        "the client learns the value that was kept"
    );
    assert!(
        conflict.get("client_value").is_none(),
        "the client's own losing value is not echoed back: {} bytes",
        conflict.to_string().len()
    );
    assert!(
        ledger_bytes(b.id).await < 1_000,
        "the ledger keeps no values ({} bytes)",
        ledger_bytes(b.id).await
    );
    // A retry still tells the whole story, values taken from the book as it is now.
    let retry = bob
        .push_ok(
            b.id,
            &[
                json!({"mutation_id": results[0]["mutation_id"], "book_id": id,
                      "base_version": base, "hlc": b.stamp_at(crate::support::now_ms() - 60_000),
                      "patch": {"notes": "l"}}),
            ],
        )
        .await;
    assert_eq!(retry[0]["result"], "duplicate", "the retry is a duplicate");
    assert_eq!(
        retry[0]["original"]["conflicts"][0]["server_value"], "the winner",
        "the duplicate's original gets the kept value from the book: {}",
        retry[0]
    );
}

#[tokio::test]
async fn ledger_rows_per_user_are_bounded() {
    // A user of its own: the shared test users' ledgers belong to the tests running alongside.
    let sub = format!("user_devices{}", Uuid::new_v4().simple());
    let s = stack().await;
    s.psql_as(
        "anon",
        Some(&sub),
        "select count(sync_push(gen_random_uuid(), '[]')) from generate_series(1, 60)",
    )
    .await
    .expect("60 devices push an empty batch");
    let mut last = Device::new();
    let m = last.mutation(book_id(), None, json!({"title": "After many devices"}));
    let push = format!("select sync_push('{}', '[{m}]')", last.id);
    let first = s
        .psql_as("anon", Some(&sub), &push)
        .await
        .expect("the 61st device pushes");
    assert!(
        first.contains("\"applied\""),
        "its mutation applies: {first}"
    );
    let rows: i64 = sql(&format!(
        "select count(*) from sync_ledger where user_id = '{sub}'"
    ))
    .await
    .parse()
    .expect("a count");
    assert!(
        rows <= 50,
        "at most 50 ledger rows per user, whatever device ids clients choose: {rows}"
    );
    let again = s
        .psql_as("anon", Some(&sub), &push)
        .await
        .expect("the retry runs");
    assert!(
        again.contains("\"duplicate\""),
        "the newest device's retry is still recognised: {again}"
    );
}

#[tokio::test]
async fn a_change_to_a_book_no_longer_on_the_server_is_gone_and_never_recreates_it() {
    let carol = Api::as_user(CAROL).await;
    let mut device = Device::new();
    let (edited, deleted) = (book_id(), book_id());
    let created = carol
        .push_ok(
            device.id,
            &[
                device.mutation(edited, None, json!({"title": "Purged one"})),
                device.mutation(deleted, None, json!({"title": "Purged two"})),
            ],
        )
        .await;
    let (v1, v2) = (version(&created[0]), version(&created[1]));
    // The rows go away as a purge removes them (here by hand, as the operator would).
    sql(&format!(
        "delete from books where id in ('{edited}', '{deleted}')"
    ))
    .await;

    let results = carol
        .push_ok(
            device.id,
            &[
                device.mutation(edited, Some(v1), json!({"notes": "edited offline"})),
                device.mutation(deleted, Some(v2), json!({"deleted": true})),
            ],
        )
        .await;
    for r in &results {
        assert_eq!(
            r["result"], "gone",
            "a change based on a version of a book no longer on the server is gone: {r}"
        );
    }
    assert_eq!(
        books_with_id(edited).await + books_with_id(deleted).await,
        0,
        "a book removed from the server is never re-created by a stale change"
    );
    // A create (no base version) with the same id is a deliberate new book.
    let again = carol
        .push_ok(
            device.id,
            &[device.mutation(edited, None, json!({"title": "Back on purpose"}))],
        )
        .await;
    assert_eq!(again[0]["result"], "applied", "a create is still a create");
}

#[tokio::test]
async fn the_purge_removes_old_tombstones_and_raises_the_horizon() {
    let carol = Api::as_user(CAROL).await;
    let mut device = Device::new();
    let (old, young, live) = (book_id(), book_id(), book_id());
    let created = carol
        .push_ok(
            device.id,
            &[
                device.mutation(old, None, json!({"title": "Old tombstone"})),
                device.mutation(young, None, json!({"title": "Young tombstone"})),
                device.mutation(live, None, json!({"title": "Alive"})),
            ],
        )
        .await;
    let deleted = carol
        .push_ok(
            device.id,
            &[
                device.mutation(old, Some(version(&created[0])), json!({"deleted": true})),
                device.mutation(young, Some(version(&created[1])), json!({"deleted": true})),
            ],
        )
        .await;
    let old_version = version(&deleted[0]);
    // Age it (the stamping trigger would set updated_at to now: skip it as the push does).
    sql(&format!(
        "begin; set local bookwish.stamped = 'on'; \
         update books set updated_at = now() - interval '40 days' where id = '{old}'; commit"
    ))
    .await;

    let refused = stack()
        .await
        .psql_as("anon", Some(CAROL.sub), "select app.purge_tombstones()")
        .await;
    assert!(refused.is_err(), "clients cannot purge: {refused:?}");

    let purged = sql(&format!(
        "select purged || ':' || purged_through from app.purge_tombstones(interval '30 days', '{}')",
        CAROL.sub
    ))
    .await;
    assert_eq!(
        purged,
        format!("1:{old_version}"),
        "one tombstone older than 30 days is removed; the horizon is its version"
    );
    assert_eq!(books_with_id(old).await, 0, "the old tombstone is gone");
    assert_eq!(books_with_id(young).await, 1, "a young tombstone stays");
    assert_eq!(books_with_id(live).await, 1, "live books stay");
    let (_, horizon) = carol.head().await;
    assert_eq!(
        horizon, old_version,
        "clients read the horizon with the head"
    );
    let compat = carol.pull(0, 1).await;
    assert_eq!(
        compat.body["purged_through"], old_version,
        "the old sync_pull reports it too"
    );
}
