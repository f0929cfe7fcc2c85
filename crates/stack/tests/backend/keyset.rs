//! Issue 12.2: the keyset pull (`GET /sync_state`, then `GET /sync_rows` pages) keeps the
//! commit-ordered no-skip guarantee of 0001, with devices pushing alongside and with
//! transactions committing out of step.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bookwish_stack::DAVE;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_postgres::NoTls;
use uuid::Uuid;

use crate::support::{book_id, seq_of, sql, stack, Api, Device};

fn version(result: &Value) -> i64 {
    result["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("an applied mutation reports its version: {result}"))
}

#[tokio::test]
async fn a_keyset_pull_alongside_two_pushing_devices_skips_nothing() {
    let dave = Api::as_user(DAVE).await;
    let start_cursor = seq_of(DAVE.sub).await;
    let done = Arc::new(AtomicBool::new(false));
    let puller = {
        let api = dave.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut cursor = start_cursor;
            let mut seen: BTreeMap<String, i64> = BTreeMap::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let (target, _) = api.head().await;
                // Pages of 7 until one is empty or reaches the head read before them.
                loop {
                    let reply = api.rows(cursor, 7).await;
                    assert_eq!(reply.status, StatusCode::OK, "a page is served: {reply:?}");
                    let rows = reply.body.as_array().cloned().unwrap_or_default();
                    for row in &rows {
                        let v = row["version"].as_i64().expect("version");
                        assert!(
                            v > cursor,
                            "pulled versions strictly increase ({v} after {cursor})"
                        );
                        cursor = v;
                        seen.insert(row["id"].as_str().expect("id").to_owned(), v);
                    }
                    if rows.is_empty() || cursor >= target {
                        break;
                    }
                }
                if finished {
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
            for _ in 0..12 {
                let batch: Vec<Value> = (0..4)
                    .map(|_| device.mutation(book_id(), None, json!({"title": "Race"})))
                    .collect();
                for r in api.push_ok(device.id, &batch).await {
                    applied.push((r["book_id"].as_str().expect("id").to_owned(), version(&r)));
                }
            }
            applied
        }));
    }
    let mut all = Vec::new();
    for push in pushes {
        all.extend(push.await.expect("a pushing device must not panic"));
    }
    done.store(true, Ordering::SeqCst);
    let seen = puller.await.expect("the keyset puller must not panic");
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
            "the keyset pull running alongside must have seen book {id} at version {v}"
        );
    }
}

async fn raw_session(sub: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&stack().await.db_url(), NoTls)
        .await
        .expect("a raw connection");
    tokio::spawn(connection);
    client
        .execute(
            "select set_config('request.jwt.claims', $1, false)",
            &[&json!({ "sub": sub }).to_string()],
        )
        .await
        .expect("claims");
    client.batch_execute("set role anon").await.expect("anon");
    client
}

async fn raw_push(client: &tokio_postgres::Client, device: &mut Device, id: Uuid) -> i64 {
    let m = device.mutation(id, None, json!({"title": "Interleaved"}));
    let out: Value = client
        .query_one("select sync_push($1, $2)", &[&device.id, &json!([m])])
        .await
        .expect("sync_push runs")
        .get(0);
    version(&out["results"][0])
}

/// A keyset page as PostgREST reads it: the view, after the cursor, in version order.
async fn raw_rows(client: &tokio_postgres::Client, after: i64) -> Vec<(String, i64)> {
    client
        .query(
            "select id::text, version from sync_rows where version > $1 order by version limit 1000",
            &[&after],
        )
        .await
        .expect("the keyset read runs")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn interleaved_commits_reach_the_keyset_pull_in_version_order() {
    let sub = format!("user_keyset{}", Uuid::new_v4().simple());
    let a = raw_session(&sub).await;
    let b = raw_session(&sub).await;
    let puller = raw_session(&sub).await;
    let (mut dev_a, mut dev_b) = (Device::new(), Device::new());
    let (book_a, book_b) = (book_id(), book_id());

    a.batch_execute("begin").await.expect("begin A");
    let v_a = raw_push(&a, &mut dev_a, book_a).await;
    let (pushed_tx, pushed_rx) = tokio::sync::oneshot::channel();
    let (commit_tx, commit_rx) = tokio::sync::oneshot::channel::<()>();
    let b_task = tokio::spawn(async move {
        b.batch_execute("begin").await.expect("begin B");
        let v_b = raw_push(&b, &mut dev_b, book_b).await;
        let _ = pushed_tx.send(v_b);
        commit_rx.await.expect("told to commit");
        b.batch_execute("commit").await.expect("commit B");
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while stack()
        .await
        .psql("select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query like '%sync_push%'")
        .await
        .expect("pg_stat_activity")
        == "0"
    {
        assert!(Instant::now() < deadline, "B's push must queue behind A's version lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        raw_rows(&puller, 0).await.is_empty(),
        "uncommitted pushes are invisible"
    );
    a.batch_execute("commit").await.expect("commit A");
    let v_b = pushed_rx.await.expect("B's push completes once A commits");
    assert!(v_b > v_a, "the later committer gets the later version");
    let mid = raw_rows(&puller, 0).await;
    assert_eq!(
        mid,
        vec![(book_a.to_string(), v_a)],
        "between the commits only A is visible"
    );
    commit_tx.send(()).expect("B waits");
    b_task.await.expect("B commits");
    assert_eq!(
        raw_rows(&puller, v_a).await,
        vec![(book_b.to_string(), v_b)],
        "the next page from the cursor returns B's later commit: no row is skipped"
    );
}

#[tokio::test]
async fn the_pull_sends_each_time_as_the_milliseconds_the_app_stores() {
    let sub = format!("user_times{}", Uuid::new_v4().simple());
    let client = raw_session(&sub).await;
    let mut device = Device::new();
    // Instants at the edges of a millisecond, before and after 1970, with the milliseconds
    // since 1970 rounded down, as the app computed them from the text (chrono's
    // timestamp_millis).
    let instants = [
        ("1969-12-31 23:59:59.999999+00", -1_i64),
        ("1969-12-31 23:59:59.999+00", -1),
        ("1970-01-01 00:00:00+00", 0),
        ("1970-01-01 00:00:00.000999+00", 0),
        ("2026-12-05 18:00:00+00", 1_796_493_600_000),
        ("2026-12-05 18:00:00.000001+00", 1_796_493_600_000),
        ("2026-12-05 18:00:00.999999+00", 1_796_493_600_999),
        ("2099-12-31 23:59:59.123456+00", 4_102_444_799_123),
    ];
    let mut expected = BTreeMap::new();
    for (at, ms) in instants {
        let id = book_id();
        raw_push(&client, &mut device, id).await;
        // Set directly, around the stamping trigger that keeps the server's own clock.
        sql(&format!(
            "set session_replication_role = replica; \
             update public.books set created_at = '{at}', updated_at = '{at}'::timestamptz + interval '1 day' \
             where id = '{id}'"
        ))
        .await;
        expected.insert(id.to_string(), (ms, ms + 86_400_000));
    }
    let rows = client
        .query(
            "select id::text, created_at_ms, updated_at_ms from sync_rows order by version",
            &[],
        )
        .await
        .expect("sync_rows has the times in milliseconds");
    let pulled: BTreeMap<String, (i64, i64)> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    assert_eq!(
        pulled, expected,
        "each pulled time is its instant's milliseconds since 1970, rounded down"
    );
    // And on every row the server holds, whoever owns it: the same as the exact arithmetic.
    let wrong = sql("select count(*) from public.sync_rows \
         where created_at_ms <> floor(extract(epoch from created_at) * 1000)::bigint \
            or updated_at_ms <> floor(extract(epoch from updated_at) * 1000)::bigint")
    .await;
    assert_eq!(wrong, "0", "no row's milliseconds differ from its time's");
}
