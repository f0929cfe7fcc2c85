//! The sync RPCs: idempotent pushes, per-mutation rejection, commit-ordered versions that pulls
//! never skip, and field conflicts as DESIGN §5 describes them.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bookwish_stack::{CAROL, DAVE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_postgres::NoTls;
use uuid::Uuid;

use crate::support::{book_id, books_with_id, now_ms, seq_of, sql, stack, Api, Device, ScratchDb};

fn version(result: &Value) -> i64 {
    result["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("an applied mutation reports its version: {result}"))
}

async fn pulled_book(api: &Api, id: Uuid) -> Value {
    api.get(&format!("/books?id=eq.{id}"))
        .await
        .body
        .get(0)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn push_applies_and_pull_returns_it() {
    let carol = Api::as_user(CAROL).await;
    let mut device = Device::new();
    let id = book_id();
    let results = carol
        .push_ok(
            device.id,
            &[device.mutation(
                id,
                None,
                json!({"title": "Emma", "author": "Jane Austen", "status": "Reading",
                       "rating": 4, "started_on": "2024-03-01"}),
            )],
        )
        .await;
    assert_eq!(
        results[0]["result"], "applied",
        "a valid create must apply: {results:?}"
    );
    let v = version(&results[0]);

    let rows = carol.pull_all(v - 1, 1000).await;
    let row = rows
        .iter()
        .find(|r| r["id"] == json!(id))
        .expect("a pull after the version before the push must return the pushed book");
    assert_eq!(row["title"], "Emma", "pull returns the pushed title");
    assert_eq!(row["status"], "Reading", "pull returns the pushed status");
    assert_eq!(row["rating"], 4, "pull returns the pushed rating");
    assert_eq!(row["version"], v, "pull returns the version push reported");
    assert_eq!(
        row["field_versions"]["title"]["hlc"]
            .as_str()
            .map(|s| s.ends_with(&device.id.to_string())),
        Some(true),
        "field_versions keep the pushing device's stamp: {row}"
    );
    assert!(row.get("user_id").is_none(), "pull rows leave out user_id");
}

/// The stamps a field conflict is decided by, as the server keeps them (`app.book_stamps`).
async fn stamp_hlc(id: Uuid, field: &str) -> String {
    sql(&format!(
        "select field_versions -> '{field}' ->> 'hlc' from app.book_stamps where id = '{id}'"
    ))
    .await
}

#[tokio::test]
async fn a_book_row_carries_no_per_field_stamps_they_are_kept_beside_it() {
    let carol = Api::as_user(CAROL).await;
    let mut device = Device::new();
    let id = book_id();
    let created = carol
        .push_ok(
            device.id,
            &[device.mutation(
                id,
                None,
                json!({"title": "Middlemarch", "author": "George Eliot"}),
            )],
        )
        .await;
    let v = version(&created[0]);

    // A plain read of the table (what `GET /books?select=*` costs) carries the book, not the
    // server's conflict bookkeeping (nine stamps, most of a row's bytes).
    let row = pulled_book(&carol, id).await;
    assert_eq!(
        row["title"], "Middlemarch",
        "the table read returns the book: {row}"
    );
    assert!(
        row.get("field_versions").is_none(),
        "a book row carries no per-field stamps: {row}"
    );

    // They are kept beside the row, one per field, with the pushing device's stamp, and an
    // update rewrites only the fields it changed.
    assert!(
        stamp_hlc(id, "author")
            .await
            .ends_with(&device.id.to_string()),
        "every field of a create has the pushing device's stamp"
    );
    let before = stamp_hlc(id, "author").await;
    let mut other = Device::new();
    carol
        .push_ok(
            other.id,
            &[other.mutation(id, Some(v), json!({"title": "Middlemarch: A Study"}))],
        )
        .await;
    assert!(
        stamp_hlc(id, "title")
            .await
            .ends_with(&other.id.to_string()),
        "the edited field takes the editing device's stamp"
    );
    assert_eq!(
        stamp_hlc(id, "author").await,
        before,
        "a field the edit did not change keeps its stamp"
    );

    // A direct write (not sync_push) stamps what it changed with the row's version and no
    // HLC, as the server always has; the other fields keep their stamps.
    let title_stamp = stamp_hlc(id, "title").await;
    let patched = carol
        .patch(
            &format!("/books?id=eq.{id}"),
            &json!({"notes": "Written directly"}),
        )
        .await;
    assert!(
        patched.status.is_success(),
        "a direct write of the user's own book is allowed: {patched:?}"
    );
    let notes = sql(&format!(
        "select (field_versions -> 'notes' ->> 'v') || ' ' || coalesce(field_versions -> 'notes' ->> 'hlc', 'none') \
           || ' ' || (b.version)::text \
           from app.book_stamps s join books b using (id) where id = '{id}'"
    ))
    .await;
    let parts: Vec<&str> = notes.split(' ').collect();
    assert!(
        parts.len() == 3 && parts[0] == parts[2] && parts[1] == "none",
        "a direct write stamps the field it changed with the row's version and no HLC: {notes}"
    );
    assert_eq!(
        stamp_hlc(id, "title").await,
        title_stamp,
        "a direct write leaves the stamps of fields it did not change"
    );

    // The legacy pull (clients before 0004) still gets them with the row.
    let legacy = carol.pull_all(v - 1, 1000).await;
    let pulled = legacy
        .iter()
        .find(|r| r["id"] == json!(id))
        .expect("the legacy pull returns the book");
    assert!(
        pulled["field_versions"]["title"]["hlc"]
            .as_str()
            .is_some_and(|s| s.ends_with(&other.id.to_string())),
        "sync_pull still sends field_versions: {pulled}"
    );
}

#[tokio::test]
async fn stamps_stored_in_the_row_before_0007_move_beside_it_and_still_decide_conflicts() {
    // A database of its own: every migration before 0007, a book pushed there (its stamps in
    // books.field_versions), then 0007 and on.
    let db = ScratchDb::new("stamps").await;
    let before_stamps = bookwish_stack::migrations()
        .expect("the migrations")
        .iter()
        .position(|m| m.display().to_string().ends_with("0007_stamps.sql"))
        .expect("migrations/0007_stamps.sql");
    db.migrate(0, before_stamps).await;
    let (mut laptop, mut phone) = (Device::new(), Device::new());
    let id = book_id();
    let push = |device: Uuid, mutation: Value| {
        format!(
            "set local role authenticated; \
             set local request.jwt.claims = '{{\"sub\": \"user_old\"}}'; \
             select sync_push('{device}', '[{mutation}]'::jsonb) -> 'results' -> 0"
        )
    };
    let created = db
        .sql(&push(
            laptop.id,
            laptop.mutation(
                id,
                None,
                json!({"title": "Persuasion", "author": "Jane Austen"}),
            ),
        ))
        .await;
    assert!(
        created.contains("\"applied\""),
        "the create applies before 0007: {created}"
    );
    let stamp = db
        .sql(&format!(
            "select field_versions -> 'title' ->> 'hlc' from books where id = '{id}'"
        ))
        .await;

    db.migrate(before_stamps, usize::MAX).await;
    let moved = db
        .sql(&format!(
            "select field_versions -> 'title' ->> 'hlc' from app.book_stamps where id = '{id}'"
        ))
        .await;
    let column = db
        .sql(
            "select count(*) from information_schema.columns \
              where table_schema = 'public' and table_name = 'books' and column_name = 'field_versions'",
        )
        .await;
    // Another device edits the title from version 0: the moved stamp is what it conflicts with.
    let edited = db
        .sql(&push(
            phone.id,
            phone.mutation(id, Some(0), json!({"title": "Persuasion (1817)"})),
        ))
        .await;
    db.drop_now().await;
    assert_eq!(
        moved, stamp,
        "0007 moves every stamp beside its row unchanged"
    );
    assert_eq!(column, "0", "0007 drops the stamps from the book row");
    let edited: Value = serde_json::from_str(&edited).expect("a push result");
    assert_eq!(
        edited["result"], "conflict",
        "an edit from an older version conflicts with the moved stamp: {edited}"
    );
    assert_eq!(
        edited["conflicts"][0]["server_hlc"],
        json!(stamp),
        "the conflict names the stamp stored before 0007: {edited}"
    );
}

#[tokio::test]
async fn a_retried_batch_is_duplicate_and_applies_nothing_twice() {
    let carol = Api::as_user(CAROL).await;
    let mut device = Device::new();
    let id = book_id();
    let batch = vec![
        device.mutation(id, None, json!({"title": "Persuasion"})),
        device.mutation(id, None, json!({"status": "Reading"})),
        device.mutation(id, None, json!({"notes": "second chances"})),
    ];
    let first = carol.push_ok(device.id, &batch).await;
    assert!(
        first.iter().all(|r| r["result"] == "applied"),
        "the first delivery applies every mutation: {first:?}"
    );
    let seq_before = seq_of(CAROL.sub).await;
    let row_before = pulled_book(&carol, id).await;

    let again = carol.push_ok(device.id, &batch).await;
    for (retry, original) in again.iter().zip(&first) {
        assert_eq!(
            retry["result"], "duplicate",
            "a retried mutation must be answered duplicate: {retry}"
        );
        assert_eq!(
            retry["original"]["version"], original["version"],
            "a duplicate echoes the first answer"
        );
    }
    assert_eq!(
        seq_of(CAROL.sub).await,
        seq_before,
        "a duplicate batch must not take a single new version"
    );
    assert_eq!(
        pulled_book(&carol, id).await,
        row_before,
        "a duplicate batch must leave the row exactly as it was"
    );

    // A retry that carries the old batch plus a new mutation applies only the new one.
    let mut extended = batch.clone();
    extended.push(device.mutation(id, None, json!({"rating": 5})));
    let third = carol.push_ok(device.id, &extended).await;
    assert_eq!(
        third
            .iter()
            .map(|r| r["result"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["duplicate", "duplicate", "duplicate", "applied"],
        "only the unseen mutation of a partly retried batch applies"
    );
}

#[tokio::test]
async fn one_bad_mutation_is_rejected_and_the_rest_apply() {
    let carol = Api::as_user(CAROL).await;
    let mut device = Device::new();
    let ids: Vec<Uuid> = (0..8).map(|_| book_id()).collect();
    let batch = vec![
        device.mutation(ids[0], None, json!({"title": "Good one"})),
        device.mutation(ids[1], None, json!({"title": "x".repeat(501)})),
        device.mutation(
            ids[2],
            None,
            json!({"title": "Bad status", "status": "Abandoned"}),
        ),
        device.mutation(ids[3], None, json!({"title": "Bad rating", "rating": 9})),
        device.mutation(
            ids[4],
            None,
            json!({"title": "Dates", "started_on": "2024-05-02", "finished_on": "2024-05-01"}),
        ),
        device.mutation(
            ids[5],
            None,
            json!({"title": "No such day", "started_on": "2024-02-30"}),
        ),
        device.mutation(ids[6], None, json!({"author": "No title"})),
        device.mutation(ids[7], None, json!({"title": "Good two"})),
    ];
    let results = carol.push_ok(device.id, &batch).await;
    let expect = [
        ("applied", None, ""),
        (
            "rejected",
            Some("check_violation"),
            "title must be 1 to 500 characters",
        ),
        (
            "rejected",
            Some("check_violation"),
            "unknown status Abandoned",
        ),
        (
            "rejected",
            Some("check_violation"),
            "rating must be a whole number from 1 to 5",
        ),
        (
            "rejected",
            Some("check_violation"),
            "finished_on must not be before started_on",
        ),
        ("rejected", Some("invalid_value"), "2024-02-30"),
        (
            "rejected",
            Some("missing_field"),
            "a new book needs a title",
        ),
        ("applied", None, ""),
    ];
    for (i, (result, code, message)) in expect.iter().enumerate() {
        let r = &results[i];
        assert_eq!(r["result"], *result, "mutation {i} must be {result}: {r}");
        if let Some(code) = code {
            assert_eq!(r["code"], *code, "mutation {i} must carry code {code}: {r}");
            assert!(
                r["message"].as_str().is_some_and(|m| m.contains(message)),
                "mutation {i}'s message must be readable and say {message:?}: {r}"
            );
            assert_eq!(
                books_with_id(ids[i]).await,
                0,
                "a rejected create writes nothing"
            );
        } else {
            assert_eq!(
                books_with_id(ids[i]).await,
                1,
                "the valid mutations of the batch apply"
            );
        }
    }
    // The rejected ones are consumed: retrying the batch answers duplicate for all of them.
    let retry = carol.push_ok(device.id, &batch).await;
    assert!(
        retry.iter().all(|r| r["result"] == "duplicate"),
        "the ledger covers rejected mutations too, so the queue never blocks"
    );
    assert_eq!(
        retry[1]["original"]["code"], "check_violation",
        "a duplicate of a rejected mutation still tells why it was rejected"
    );
}

#[tokio::test]
async fn concurrent_devices_get_commit_ordered_versions_and_a_concurrent_pull_skips_nothing() {
    let dave = Api::as_user(DAVE).await;
    let start_cursor = seq_of(DAVE.sub).await;
    let done = Arc::new(AtomicBool::new(false));

    // A puller running alongside, following next_cursor exactly as the app does.
    let puller = {
        let api = dave.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut cursor = start_cursor;
            let mut seen: BTreeMap<String, i64> = BTreeMap::new();
            let mut last_version = cursor;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let reply = api.pull(cursor, 7).await;
                assert_eq!(reply.status, StatusCode::OK, "pull must succeed: {reply:?}");
                for row in reply.body["rows"].as_array().expect("rows") {
                    let v = row["version"].as_i64().expect("version");
                    assert!(
                        v > last_version,
                        "pulled versions strictly increase ({v} after {last_version})"
                    );
                    last_version = v;
                    seen.insert(row["id"].as_str().expect("id").to_owned(), v);
                }
                cursor = reply.body["next_cursor"].as_i64().expect("next_cursor");
                if finished && !reply.body["has_more"].as_bool().expect("has_more") {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    let mut pushes = Vec::new();
    for _ in 0..2 {
        let api = dave.clone();
        pushes.push(tokio::spawn(async move {
            let mut device = Device::new();
            let mut applied = Vec::new();
            let calls: Vec<_> = (0..12)
                .map(|_| {
                    let batch: Vec<Value> = (0..4)
                        .map(|_| device.mutation(book_id(), None, json!({"title": "Race"})))
                        .collect();
                    batch
                })
                .collect();
            // Each device sends its batches in order; the two devices race each other.
            for batch in calls {
                let results = api.push_ok(device.id, &batch).await;
                let versions: Vec<i64> = results.iter().map(version).collect();
                assert!(
                    versions.windows(2).all(|w| w[0] < w[1]),
                    "versions within one batch strictly increase: {versions:?}"
                );
                for r in &results {
                    applied.push((r["book_id"].as_str().expect("id").to_owned(), version(r)));
                }
            }
            applied
        }));
    }
    let mut all: Vec<(String, i64)> = Vec::new();
    for push in pushes {
        all.extend(push.await.expect("a pushing device must not panic"));
    }
    done.store(true, Ordering::SeqCst);
    let seen = puller.await.expect("the concurrent puller must not panic");

    let versions: HashSet<i64> = all.iter().map(|(_, v)| *v).collect();
    assert_eq!(
        versions.len(),
        all.len(),
        "every write gets its own version"
    );
    for (id, v) in &all {
        assert_eq!(
            seen.get(id),
            Some(v),
            "the pull running alongside must have seen book {id} at version {v}"
        );
    }
}

async fn raw_session(sub: &str) -> tokio_postgres::Client {
    let url = stack().await.db_url();
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .expect("a raw connection to the stack's PostgreSQL");
    tokio::spawn(connection);
    client
        .execute(
            "select set_config('request.jwt.claims', $1, false)",
            &[&json!({ "sub": sub }).to_string()],
        )
        .await
        .expect("set the claims PostgREST would set");
    client
        .batch_execute("set role anon")
        .await
        .expect("act as PostgREST's anon role");
    client
}

async fn raw_push(client: &tokio_postgres::Client, device: &mut Device, id: Uuid) -> i64 {
    let m = device.mutation(id, None, json!({"title": "Interleaved"}));
    let row = client
        .query_one("select sync_push($1, $2)", &[&device.id, &json!([m])])
        .await
        .expect("sync_push runs");
    let out: Value = row.get(0);
    assert_eq!(
        out["results"][0]["result"], "applied",
        "the raw push applies: {out}"
    );
    version(&out["results"][0])
}

async fn raw_pull(client: &tokio_postgres::Client, after: i64) -> Value {
    client
        .query_one("select sync_pull($1, 1000)", &[&after])
        .await
        .expect("sync_pull runs")
        .get(0)
}

#[tokio::test]
async fn interleaved_transactions_commit_in_version_order_and_pull_never_skips() {
    let sub = format!("user_interleave{}", Uuid::new_v4().simple());
    let a = raw_session(&sub).await;
    let b = raw_session(&sub).await;
    let puller = raw_session(&sub).await;
    let (mut dev_a, mut dev_b) = (Device::new(), Device::new());
    let (book_a, book_b) = (book_id(), book_id());

    // A pushes inside an open transaction: it holds the user's version lock.
    a.batch_execute("begin").await.expect("begin A");
    let v_a = raw_push(&a, &mut dev_a, book_a).await;

    // B pushes from another device in its own transaction: it must queue behind A.
    let (pushed_tx, pushed_rx) = tokio::sync::oneshot::channel();
    let (commit_tx, commit_rx) = tokio::sync::oneshot::channel::<()>();
    let b_task = tokio::spawn(async move {
        b.batch_execute("begin").await.expect("begin B");
        let v_b = raw_push(&b, &mut dev_b, book_b).await;
        let _ = pushed_tx.send(v_b);
        commit_rx.await.expect("the test tells B when to commit");
        b.batch_execute("commit").await.expect("commit B");
    });
    let monitor = stack().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting = monitor
            .psql("select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query like '%sync_push%'")
            .await
            .expect("read pg_stat_activity");
        if waiting != "0" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B's push must block on A's version lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let before = raw_pull(&puller, 0).await;
    assert_eq!(
        before["rows"],
        json!([]),
        "uncommitted pushes are invisible to a pull"
    );

    a.batch_execute("commit").await.expect("commit A");
    let v_b = pushed_rx.await.expect("B's push completes once A commits");
    assert!(
        v_b > v_a,
        "the later committer gets the later version ({v_b} > {v_a})"
    );

    // A is committed, B not yet: a pull sees A and sets its cursor to A's version.
    let mid = raw_pull(&puller, 0).await;
    let ids: Vec<&Value> = mid["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(
        ids,
        [&json!(book_a)],
        "a pull between the commits sees only A's row"
    );
    let cursor = mid["next_cursor"].as_i64().expect("cursor");
    assert_eq!(cursor, v_a, "the cursor stops at A's version");
    assert_eq!(
        mid["server_version"], v_a,
        "server_version counts only committed versions"
    );

    commit_tx.send(()).expect("B is waiting to commit");
    b_task.await.expect("B commits");

    let after = raw_pull(&puller, cursor).await;
    assert_eq!(
        after["rows"]
            .as_array()
            .map(|r| r.iter().map(|x| x["id"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(book_b)]),
        "the next pull from the cursor must return B's later commit: no row is skipped"
    );
    assert_eq!(
        after["rows"][0]["version"], v_b,
        "B's row carries B's version"
    );
}

#[tokio::test]
async fn field_conflicts_follow_design_section_5() {
    let carol = Api::as_user(CAROL).await;
    let (mut laptop, mut desktop) = (Device::new(), Device::new());
    let id = book_id();
    let created = carol
        .push_ok(
            laptop.id,
            &[laptop.mutation(
                id,
                None,
                json!({"title": "Dracula", "author": "Stoker", "status": "Wishlist"}),
            )],
        )
        .await;
    let base = version(&created[0]);

    // The laptop edits title and status after both devices saw `base`.
    let t = now_ms();
    let stamp = laptop.stamp_at(t);
    let laptop_edit = carol
        .push_ok(
            laptop.id,
            &[laptop.mutation_stamped(
                id,
                Some(base),
                json!({"title": "Dracula (annotated)", "status": "Reading"}),
                stamp,
            )],
        )
        .await;
    assert_eq!(
        laptop_edit[0]["result"], "applied",
        "no one else changed these fields"
    );

    // The desktop, still on `base`, edits title (later stamp), status (earlier stamp), author
    // (nobody else touched it) and notes.
    let earlier = desktop.stamp_at(t - 1_000);
    let later = desktop.stamp_at(t + 1_000);
    let results = carol
        .push_ok(
            desktop.id,
            &[
                desktop.mutation_stamped(id, Some(base), json!({"status": "Finished"}), earlier),
                desktop.mutation_stamped(
                    id,
                    Some(base),
                    json!({"title": "Dracula, 1897", "author": "Bram Stoker"}),
                    later,
                ),
            ],
        )
        .await;

    assert_eq!(
        results[0]["result"], "conflict",
        "a concurrent status edit is a conflict: {}",
        results[0]
    );
    let c = &results[0]["conflicts"][0];
    assert_eq!(
        (
            c["field"].as_str(),
            c["winner"].as_str(),
            c["server_value"].as_str(),
        ),
        (Some("status"), Some("server"), Some("Reading")),
        "the earlier stamp loses and the client learns the winning value: {c}"
    );
    assert!(
        c.get("client_value").is_none(),
        "the client's own value is not echoed back (it sent it): {c}"
    );

    assert_eq!(
        results[1]["result"], "conflict",
        "a concurrent title edit is a conflict: {}",
        results[1]
    );
    let conflicts = results[1]["conflicts"].as_array().expect("conflicts");
    assert_eq!(
        conflicts.len(),
        1,
        "author was changed by no one else, so only title conflicts: {conflicts:?}"
    );
    assert_eq!(
        (
            conflicts[0]["field"].as_str(),
            conflicts[0]["winner"].as_str(),
            conflicts[0]["server_value"].as_str()
        ),
        (Some("title"), Some("client"), Some("Dracula (annotated)")),
        "the later stamp wins and the losing server value is reported"
    );

    let row = pulled_book(&carol, id).await;
    assert_eq!(row["title"], "Dracula, 1897", "the later title stamp wins");
    assert_eq!(row["status"], "Reading", "the earlier status stamp loses");
    assert_eq!(
        row["author"], "Bram Stoker",
        "a field nobody else changed simply applies"
    );

    // The same device editing again on a stale base is not a conflict with itself.
    let own = carol
        .push_ok(
            laptop.id,
            &[laptop.mutation(id, Some(base), json!({"status": "Finished"}))],
        )
        .await;
    assert_eq!(
        own[0]["result"], "applied",
        "a device's own later change is never a conflict with itself: {}",
        own[0]
    );

    // Equal values are not a conflict either.
    let current = row["version"].as_i64().expect("version");
    let same = carol
        .push_ok(
            desktop.id,
            &[desktop.mutation(id, Some(base), json!({"author": "Bram Stoker"}))],
        )
        .await;
    assert_eq!(
        same[0]["result"], "applied",
        "an identical concurrent value is no conflict"
    );
    assert!(version(&same[0]) >= current, "versions never go back");
}

#[tokio::test]
async fn delete_wins_over_a_concurrent_edit() {
    let carol = Api::as_user(CAROL).await;
    let (mut a, mut b) = (Device::new(), Device::new());
    let id = book_id();
    let base = version(
        &carol
            .push_ok(
                a.id,
                &[a.mutation(id, None, json!({"title": "Frankenstein"}))],
            )
            .await[0],
    );

    let deleted = carol
        .push_ok(
            a.id,
            &[a.mutation(id, Some(base), json!({"deleted": true}))],
        )
        .await;
    assert_eq!(deleted[0]["result"], "applied", "a plain delete applies");

    // B edits notes with a later stamp, unaware of the delete.
    let edit = carol
        .push_ok(
            b.id,
            &[b.mutation(id, Some(base), json!({"notes": "the modern Prometheus"}))],
        )
        .await;
    assert_eq!(
        edit[0]["result"], "conflict",
        "an edit to a concurrently deleted book is reported: {}",
        edit[0]
    );
    assert_eq!(
        edit[0]["conflicts"][0]["field"], "deleted",
        "the conflict names the delete"
    );
    assert_eq!(
        edit[0]["conflicts"][0]["winner"], "server",
        "delete wins over a concurrent edit"
    );
    let row = pulled_book(&carol, id).await;
    assert_eq!(row["deleted"], true, "the book stays deleted");
    assert_eq!(
        row["notes"], "the modern Prometheus",
        "the edit is kept on the tombstone for a restore"
    );

    // A concurrent restore (B still on `base`) loses to the delete too.
    let restore = carol
        .push_ok(
            b.id,
            &[b.mutation(id, Some(base), json!({"deleted": false}))],
        )
        .await;
    assert_eq!(
        restore[0]["conflicts"][0]["winner"], "server",
        "delete wins over a concurrent restore"
    );
    assert_eq!(
        pulled_book(&carol, id).await["deleted"],
        true,
        "still deleted"
    );

    // A restore made after seeing the delete applies.
    let seen = row["version"].as_i64().expect("version");
    let restore = carol
        .push_ok(
            b.id,
            &[b.mutation(id, Some(seen), json!({"deleted": false}))],
        )
        .await;
    assert_eq!(
        restore[0]["result"], "applied",
        "a deliberate restore applies: {}",
        restore[0]
    );
    assert_eq!(
        pulled_book(&carol, id).await["deleted"],
        false,
        "the user can restore"
    );
}

#[tokio::test]
async fn stamps_far_in_the_future_are_clamped() {
    let carol = Api::as_user(CAROL).await;
    let (mut runaway, mut honest) = (Device::new(), Device::new());
    let id = book_id();
    let base = version(
        &carol
            .push_ok(
                honest.id,
                &[honest.mutation(id, None, json!({"title": "Walden"}))],
            )
            .await[0],
    );

    let day = 24 * 3600 * 1000;
    let future = runaway.stamp_at(now_ms() + day);
    carol
        .push_ok(
            runaway.id,
            &[runaway.mutation_stamped(
                id,
                Some(base),
                json!({"title": "Walden (from the future)"}),
                future,
            )],
        )
        .await;
    let stored = stamp_hlc(id, "title").await;
    let millis: u64 = stored[..13].parse().expect("millis");
    assert!(
        millis <= now_ms() + 5 * 60 * 1000,
        "a stamp a day ahead must be clamped to the server clock (stored {stored})"
    );

    // An honest device editing a little later wins, as it would not against the raw stamp.
    let later = honest.stamp_at(now_ms() + 2_000);
    let results = carol
        .push_ok(
            honest.id,
            &[honest.mutation_stamped(
                id,
                Some(base),
                json!({"title": "Walden; or, Life in the Woods"}),
                later,
            )],
        )
        .await;
    assert_eq!(
        results[0]["conflicts"][0]["winner"], "client",
        "the clamped stamp no longer wins forever: {}",
        results[0]
    );
}

#[tokio::test]
async fn pull_pages_are_capped_at_1000_and_seek_by_index() {
    let dave = Api::as_user(DAVE).await;
    let mut device = Device::new();
    let start = seq_of(DAVE.sub).await;
    let mut ids = HashSet::new();
    for _ in 0..2 {
        let batch: Vec<Value> = (0..600)
            .map(|i| {
                let id = book_id();
                ids.insert(id.to_string());
                device.mutation(id, None, json!({"title": format!("Bulk {i}")}))
            })
            .collect();
        let results = dave.push_ok(device.id, &batch).await;
        assert!(
            results.iter().all(|r| r["result"] == "applied"),
            "bulk pushes apply"
        );
    }
    let first = dave.pull(start, 5000).await;
    assert_eq!(
        first.body["rows"].as_array().map(Vec::len),
        Some(1000),
        "a page holds at most 1000 rows, whatever max asks for"
    );
    assert_eq!(
        first.body["has_more"], true,
        "a full page says there is more"
    );

    let rows = dave.pull_all(start, 333).await;
    let seen: HashSet<String> = rows
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    assert!(
        ids.is_subset(&seen),
        "paging by cursor returns every pushed row"
    );
    let versions: Vec<i64> = rows.iter().filter_map(|r| r["version"].as_i64()).collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "pages come in version order"
    );

    sql("analyze books").await;
    let plan = stack()
        .await
        .psql_as(
            "anon",
            Some(DAVE.sub),
            &format!(
                "explain select * from books where user_id = app.user_id() \
                 and version > {} order by version limit 1000",
                start + 1100
            ),
        )
        .await
        .expect("explain the page query");
    assert!(
        plan.contains("books_user_version"),
        "a page seeks to the cursor through the (user_id, version) index:\n{plan}"
    );
    assert_eq!(sql("select 1").await, "1", "the database still answers");
}
