//! Bad input: odd text the app accepts is stored verbatim, text it refuses (over-long, control
//! characters) is rejected with a reason, wrong JSON shapes fail the whole call with a clear
//! error and write nothing, and the server keeps serving.

use bookwish_stack::BOB;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{book_id, books_with_id, Api, Device};

#[tokio::test]
async fn odd_text_is_stored_verbatim() {
    let bob = Api::as_user(BOB).await;
    let mut device = Device::new();
    let texts = [
        "é".repeat(500),
        "📚".repeat(500),
        "Robert'); DROP TABLE books;--".to_owned(),
        "' OR '1'='1".to_owned(),
        "<script>alert('x')</script><b>&amp;</b>".to_owned(),
        "\u{202e}reversed \u{200b}zero width \u{feff}bom".to_owned(),
        "$$ language plpgsql $$; select pg_sleep(10)".to_owned(),
    ];
    let ids: Vec<Uuid> = texts.iter().map(|_| book_id()).collect();
    let batch: Vec<Value> = texts
        .iter()
        .zip(&ids)
        .map(|(text, id)| device.mutation(*id, None, json!({"title": text, "notes": text, "author": text.chars().take(300).collect::<String>()})))
        .collect();
    let results = bob.push_ok(device.id, &batch).await;
    for (i, r) in results.iter().enumerate() {
        assert_eq!(
            r["result"], "applied",
            "text {i} is valid and must apply: {r}"
        );
    }
    let long_notes = "n".repeat(10_000);
    let id = book_id();
    let r = bob
        .push_ok(
            device.id,
            &[device.mutation(
                id,
                None,
                json!({"title": "Long notes", "notes": long_notes}),
            )],
        )
        .await;
    assert_eq!(
        r[0]["result"], "applied",
        "notes of exactly 10000 characters fit"
    );

    for (text, id) in texts.iter().zip(&ids) {
        let row = bob
            .get(&format!("/books?id=eq.{id}&select=title,notes"))
            .await;
        assert_eq!(
            row.body[0]["title"],
            json!(text),
            "the title must come back byte for byte"
        );
        assert_eq!(
            row.body[0]["notes"],
            json!(text),
            "the notes must come back byte for byte"
        );
    }
    let alive = bob.get("/books?select=id&limit=1").await;
    assert_eq!(
        alive.status,
        StatusCode::OK,
        "the books table is still there and served"
    );
}

#[tokio::test]
async fn over_long_text_is_rejected_with_a_reason_and_the_server_keeps_serving() {
    let bob = Api::as_user(BOB).await;
    let mut device = Device::new();
    let cases = [
        (
            json!({"title": "t".repeat(501)}),
            "title must be 1 to 500 characters",
        ),
        (json!({"title": "   \t\n "}), "not blank"),
        (json!({"title": ""}), "title must be 1 to 500"),
        (
            json!({"title": "ok", "author": "a".repeat(301)}),
            "author must be at most 300",
        ),
        (
            json!({"title": "ok", "notes": "n".repeat(10_001)}),
            "notes must be at most 10000",
        ),
        (
            json!({"title": "ok", "notes": "x".repeat(1 << 19)}),
            "notes must be at most 10000",
        ),
        (
            json!({"title": "tab\there\nnewline"}),
            "title must not contain control characters",
        ),
        (
            json!({"title": "ok", "author": "\u{1b}[31mred"}),
            "author must not contain control characters",
        ),
        (
            json!({"title": "ok", "notes": "bell\u{7} and\r\nCRLF"}),
            "notes must not contain control characters other than line breaks and tabs",
        ),
        (
            json!({"title": "ok", "started_on": "infinity"}),
            "started_on must be a real date",
        ),
    ];
    for (patch, message) in cases {
        let id = book_id();
        let results = bob
            .push_ok(device.id, &[device.mutation(id, None, patch)])
            .await;
        assert_eq!(
            results[0]["result"], "rejected",
            "over-long or blank text is rejected"
        );
        assert!(
            results[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(message)),
            "the rejection says why ({message}): {}",
            results[0]
        );
        assert_eq!(books_with_id(id).await, 0, "a rejected book is not stored");
    }
    let direct = bob
        .post(
            "/books",
            &json!({"id": book_id(), "title": "t".repeat(501)}),
        )
        .await;
    assert_eq!(
        direct.status,
        StatusCode::BAD_REQUEST,
        "a direct over-long insert is refused: {direct:?}"
    );
    assert!(
        direct.message().contains("books_title_check"),
        "the refusal names the rule"
    );
    let alive = bob.pull(0, 1).await;
    assert_eq!(
        alive.status,
        StatusCode::OK,
        "the server keeps serving after bad input"
    );
}

#[tokio::test]
async fn a_nul_character_fails_the_call_and_writes_nothing() {
    let bob = Api::as_user(BOB).await;
    let mut device = Device::new();
    let (good, bad) = (book_id(), book_id());
    let batch = [
        device.mutation(good, None, json!({"title": "fine"})),
        device.mutation(bad, None, json!({"title": "nul\u{0}inside"})),
    ];
    let reply = bob.push(device.id, &batch).await;
    assert!(
        reply.status.is_client_error(),
        "PostgreSQL text cannot hold NUL: the call must fail as bad input: {reply:?}"
    );
    assert!(
        !reply.message().is_empty(),
        "the error says what is wrong: {reply:?}"
    );
    assert_eq!(
        books_with_id(good).await + books_with_id(bad).await,
        0,
        "nothing of the batch is written"
    );
    let ok = bob
        .push_ok(
            device.id,
            &[device.mutation(good, None, json!({"title": "fine"}))],
        )
        .await;
    assert_eq!(
        ok[0]["result"], "applied",
        "the same device pushes normally afterwards"
    );
}

#[tokio::test]
async fn wrong_json_shapes_fail_the_whole_call_and_write_nothing() {
    let bob = Api::as_user(BOB).await;
    let mut device = Device::new();
    let other_device = Uuid::now_v7();
    let probe = book_id();
    let good = |d: &mut Device| d.mutation(probe, None, json!({"title": "should not land"}));
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    cases.push((
        "mutations is an object",
        json!({"device_id": device.id, "mutations": {"a": 1}}),
        "must be a JSON array",
    ));
    cases.push((
        "mutations is a string",
        json!({"device_id": device.id, "mutations": "[]"}),
        "must be a JSON array",
    ));
    cases.push((
        "mutations is null",
        json!({"device_id": device.id, "mutations": null}),
        "must be a JSON array",
    ));
    cases.push((
        "a mutation is a number",
        json!({"device_id": device.id, "mutations": [good(&mut device), 1]}),
        "mutations[1] must be an object",
    ));
    let mut m = good(&mut device);
    m.as_object_mut().expect("object").remove("book_id");
    cases.push((
        "book_id missing",
        json!({"device_id": device.id, "mutations": [m]}),
        "book_id must be a uuid",
    ));
    let mut m = good(&mut device);
    m["mutation_id"] = json!("not-a-uuid");
    cases.push((
        "mutation_id not a uuid",
        json!({"device_id": device.id, "mutations": [m]}),
        "mutation_id must be a uuid",
    ));
    let mut m = good(&mut device);
    m["patch"] = json!([["title", "x"]]);
    cases.push((
        "patch is an array",
        json!({"device_id": device.id, "mutations": [m]}),
        "patch must be an object",
    ));
    for (field, value, says) in [
        ("rating", json!("five"), "rating must be a whole number"),
        ("rating", json!(2.5), "rating must be a whole number"),
        ("deleted", json!("yes"), "deleted must be true or false"),
        ("title", json!(42), "title must be a string"),
        (
            "started_on",
            json!(20240101),
            "started_on must be a \"YYYY-MM-DD\" string",
        ),
        ("owner", json!("user_x"), "unknown field"),
        ("user_id", json!(BOB.sub), "unknown field"),
        ("version", json!(1), "unknown field"),
    ] {
        let mut m = good(&mut device);
        m["patch"][field] = value;
        cases.push((
            "bad patch value",
            json!({"device_id": device.id, "mutations": [good(&mut device), m]}),
            says,
        ));
    }
    let mut m = good(&mut device);
    m["user_id"] = json!("user_x");
    cases.push((
        "unknown mutation key",
        json!({"device_id": device.id, "mutations": [m]}),
        "unknown key",
    ));
    let mut m = good(&mut device);
    m["base_version"] = json!(-3);
    cases.push((
        "negative base_version",
        json!({"device_id": device.id, "mutations": [m]}),
        "base_version must be a whole number",
    ));
    let mut m = good(&mut device);
    m["hlc"] = json!("yesterday");
    cases.push((
        "malformed stamp",
        json!({"device_id": device.id, "mutations": [m]}),
        "hlc must be a stamp",
    ));
    let mut m = good(&mut device);
    m["hlc"] = json!(format!(
        "{:013}-000001-{other_device}",
        crate::support::now_ms()
    ));
    cases.push((
        "stamp of another device",
        json!({"device_id": device.id, "mutations": [m]}),
        "was stamped by device",
    ));
    let (first, second) = (good(&mut device), good(&mut device));
    cases.push((
        "ids not increasing",
        json!({"device_id": device.id, "mutations": [second, first]}),
        "must be greater than the one before",
    ));
    let many: Vec<Value> = (0..1001).map(|_| good(&mut device)).collect();
    cases.push((
        "1001 mutations",
        json!({"device_id": device.id, "mutations": many}),
        "at most 1000",
    ));
    cases.push((
        "device_id not a uuid",
        json!({"device_id": "laptop", "mutations": [good(&mut device)]}),
        "uuid",
    ));
    cases.push((
        "device_id missing",
        json!({"mutations": [good(&mut device)]}),
        "sync_push",
    ));
    cases.push((
        "extra argument",
        json!({"device_id": device.id, "mutations": [], "force": true}),
        "sync_push",
    ));

    for (label, body, says) in cases {
        let reply = bob.post("/rpc/sync_push", &body).await;
        assert!(
            reply.status.is_client_error(),
            "{label}: a malformed batch must fail with a 4xx: {reply:?}"
        );
        assert!(
            reply.message().contains(says),
            "{label}: the error must say {says:?}: {}",
            reply.message()
        );
        assert_eq!(
            books_with_id(probe).await,
            0,
            "{label}: nothing of a malformed batch is written"
        );
    }
    for (label, body) in [("not JSON", "{\"device_id\": "), ("empty body", "")] {
        let reply = bob.post_raw("/rpc/sync_push", body).await;
        assert!(
            reply.status.is_client_error(),
            "{label}: must fail with a 4xx: {reply:?}"
        );
    }
    // Every mutation above names the probe book, which was never stored: no version was taken
    // for it. (Bob's counter itself moves with the other tests of this module.)
    let ledger = crate::support::sql(&format!(
        "select count(*) from sync_ledger where device_id = '{}'",
        device.id
    ))
    .await;
    assert_eq!(ledger, "0", "malformed batches leave no ledger row");

    for (label, body, says) in [
        (
            "negative cursor",
            json!({"after": -1, "max": 10}),
            "after must be a version",
        ),
        (
            "zero page",
            json!({"after": 0, "max": 0}),
            "max must be at least 1",
        ),
        (
            "cursor not a number",
            json!({"after": "abc", "max": 10}),
            "bigint",
        ),
    ] {
        let reply = bob.post("/rpc/sync_pull", &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{label}: sync_pull must answer 400: {reply:?}"
        );
        assert!(
            reply.message().contains(says),
            "{label}: the error must say {says:?}: {reply:?}"
        );
    }

    let ok = bob.push_ok(device.id, &[good(&mut device)]).await;
    assert_eq!(
        ok[0]["result"], "applied",
        "after all that the server still applies a good push"
    );
}

#[tokio::test]
async fn the_shape_checks_quick_test_answers_as_the_full_check_does() {
    // app.mutation_problem answers null for a plainly well-formed mutation without running
    // app.mutation_problem_found, the full check that names what is wrong (migrations/
    // 0009_shape_check.sql). The quick test must never pass a mutation the full check faults:
    // both run here over a valid mutation with each key missing or replaced, each patch field
    // (known, unknown, empty) missing or replaced, by every kind of JSON value, alone and in
    // pairs, and over every kind of JSON value in place of the mutation itself.
    let answer = crate::support::sql(
        r#"
        with dev(d) as (values ('0190aaaa-0000-7000-8000-000000000001'::uuid)),
        base(m) as (values (jsonb_build_object(
          'mutation_id', '0190aaaa-0000-7000-8000-0000000000ff',
          'book_id', '0190aaaa-0000-7000-8000-0000000000ee',
          'base_version', 3,
          'hlc', '1765000000000-000001-0190aaaa-0000-7000-8000-000000000001',
          'patch', jsonb_build_object('title', 'Emma', 'author', 'Jane Austen',
            'status', 'Reading', 'notes', 'n', 'rating', 4, 'started_on', '2024-01-02',
            'finished_on', null, 'isbn', '9780000000002', 'deleted', false)))),
        palette(v) as (values ('null'::jsonb), ('true'), ('false'), ('0'), ('1'), ('-3'),
          ('2.5'), ('1e3'), ('1234567890123456789'), ('""'), ('" "'), ('"x"'),
          ('"2024-02-30"'), ('"0190AAAA-0000-7000-8000-000000000002"'),
          ('"1765000000000-000002-0190aaaa-0000-7000-8000-000000000001"'),
          ('"1765000000000-000002-0190aaaa-0000-7000-8000-000000000009"'),
          ('"1765000000000-2-0190aaaa-0000-7000-8000-000000000001"'),
          ('{}'), ('[]'), ('[1]'), ('{"title": "x"}'), ('{"title": 1}')),
        keys(k) as (values ('mutation_id'), ('book_id'), ('base_version'), ('hlc'), ('patch'),
          ('user_id')),
        fields(f) as (values ('title'), ('author'), ('status'), ('notes'), ('rating'),
          ('started_on'), ('finished_on'), ('isbn'), ('deleted'), ('owner'), (''), ('version')),
        tops(m) as (
          select b.m from base as b
          union all select b.m - k.k from base as b, keys as k
          union all select b.m || jsonb_build_object(k.k, p.v)
            from base as b, keys as k, palette as p),
        corpus(m) as (
          select p.v from palette as p
          union all select t.m from tops as t
          union all select jsonb_set(t.m, '{patch}', (t.m -> 'patch') - f.f)
            from tops as t, fields as f where jsonb_typeof(t.m -> 'patch') = 'object'
          union all select jsonb_set(t.m, '{patch}',
                                     (t.m -> 'patch') || jsonb_build_object(f.f, p.v))
            from tops as t, fields as f, palette as p
           where jsonb_typeof(t.m -> 'patch') = 'object'),
        answers as (
          select app.mutation_problem(c.m, 'mutations[0]', dev.d) as quick,
                 app.mutation_problem_found(c.m, 'mutations[0]', dev.d) as found
            from corpus as c, dev)
        select format('%s %s %s', count(*), count(*) filter (where found is null),
                      count(*) filter (where quick is distinct from found))
          from answers
        "#,
    )
    .await;
    let counts: Vec<usize> = answer
        .split_whitespace()
        .map(|n| n.parse().expect("a count"))
        .collect();
    let [cases, well_formed, differ] = counts[..] else {
        panic!("three counts, got {answer:?}");
    };
    assert!(
        cases > 10_000 && well_formed > 500 && well_formed < cases,
        "the corpus holds both well-formed and malformed mutations, many of each: {answer}"
    );
    assert_eq!(
        differ, 0,
        "the quick test and the full check answer the same for every mutation \
         ({cases} mutations, {well_formed} well formed)"
    );
}
