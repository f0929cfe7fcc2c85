//! The ISBN (migrations/0005_isbn.sql): a field that syncs like the others — field versions,
//! conflicts, the keyset pull — and a column that refuses every value the app refuses.

use bookwish_stack::{ALICE, CAROL, DAVE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{book_id, now_ms, sql, Api, Device};

fn version(result: &Value) -> i64 {
    result["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("an applied mutation reports its version: {result}"))
}

/// The row of book `id` in `GET /sync_rows`, as the app pulls it.
async fn pulled(api: &Api, id: uuid::Uuid) -> Value {
    api.rows_all(0, 1000)
        .await
        .into_iter()
        .find(|row| row["id"] == json!(id))
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn the_isbn_syncs_with_field_versions_and_conflicts_like_every_field() {
    let dave = Api::as_user(DAVE).await;
    let (mut laptop, mut desktop) = (Device::new(), Device::new());
    let id = book_id();
    let created = dave
        .push_ok(
            laptop.id,
            &[laptop.mutation(id, None, json!({"title": "Dune", "isbn": "9780441013593"}))],
        )
        .await;
    assert_eq!(
        created[0]["result"], "applied",
        "a valid ISBN applies: {}",
        created[0]
    );
    let base = version(&created[0]);
    let row = pulled(&dave, id).await;
    assert_eq!(
        row["isbn"], "9780441013593",
        "the keyset pull carries the ISBN: {row}"
    );
    let stamps = sql(&format!(
        "select field_versions -> 'isbn' ->> 'hlc' from app.book_stamps where id = '{id}'"
    ))
    .await;
    assert!(
        stamps.ends_with(&laptop.id.to_string()),
        "the ISBN has its own field version with the pushing device's stamp: {stamps}"
    );

    // Both devices change the ISBN from `base`; the later stamp wins, the loser is told.
    let t = now_ms();
    let early = laptop.stamp_at(t - 1_000);
    let applied = dave
        .push_ok(
            laptop.id,
            &[laptop.mutation_stamped(id, Some(base), json!({"isbn": "9780765326355"}), early)],
        )
        .await;
    assert_eq!(
        applied[0]["result"], "applied",
        "nobody else changed it yet"
    );
    let late = desktop.stamp_at(t + 1_000);
    let results = dave
        .push_ok(
            desktop.id,
            &[desktop.mutation_stamped(id, Some(base), json!({"isbn": null}), late)],
        )
        .await;
    assert_eq!(
        results[0]["result"], "conflict",
        "a concurrent ISBN edit is a conflict: {}",
        results[0]
    );
    let conflict = &results[0]["conflicts"][0];
    assert_eq!(
        (
            conflict["field"].as_str(),
            conflict["winner"].as_str(),
            conflict["server_value"].as_str()
        ),
        (Some("isbn"), Some("client"), Some("9780765326355")),
        "the later stamp wins and the losing value is reported: {conflict}"
    );
    assert_eq!(
        pulled(&dave, id).await["isbn"],
        Value::Null,
        "the winning edit (clearing the ISBN) is what every device pulls"
    );
}

#[tokio::test]
async fn clients_that_never_heard_of_the_isbn_keep_syncing_and_leave_it_alone() {
    let dave = Api::as_user(DAVE).await;
    let mut device = Device::new();
    let id = book_id();
    let created = dave
        .push_ok(
            device.id,
            &[device.mutation(id, None, json!({"title": "Emma"}))],
        )
        .await;
    assert_eq!(
        created[0]["result"], "applied",
        "a create without an ISBN applies"
    );
    assert_eq!(pulled(&dave, id).await["isbn"], Value::Null, "and has none");

    let base = version(&created[0]);
    dave.push_ok(
        device.id,
        &[device.mutation(id, Some(base), json!({"isbn": "9780141439587"}))],
    )
    .await;
    let old_client = dave
        .push_ok(
            device.id,
            &[device.mutation(id, Some(base + 1), json!({"title": "Emma (Penguin)"}))],
        )
        .await;
    assert_eq!(
        old_client[0]["result"], "applied",
        "an edit without the field applies"
    );
    let row = pulled(&dave, id).await;
    assert_eq!(
        (row["title"].as_str(), row["isbn"].as_str()),
        (Some("Emma (Penguin)"), Some("9780141439587")),
        "an edit that does not name the ISBN leaves it as it was: {row}"
    );
    let legacy = dave.pull_all(0, 1000).await;
    let legacy_row = legacy
        .iter()
        .find(|r| r["id"] == json!(id))
        .expect("0002's sync_pull still serves the book");
    assert_eq!(
        legacy_row["isbn"], "9780141439587",
        "the old pull carries the field too (its clients ignore it)"
    );
}

#[tokio::test]
async fn a_wrong_isbn_is_refused_by_the_push_and_by_the_table() {
    let alice = Api::as_user(ALICE).await;
    let carol = Api::as_user(CAROL).await;
    let mut device = Device::new();
    let id = book_id();
    let created = alice
        .post(
            "/books",
            &json!({"id": id, "title": "Solaris", "isbn": "9780156027601"}),
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "a valid ISBN is stored through plain REST too: {created:?}"
    );
    let row = || async { sql(&format!("select isbn from books where id = '{id}'")).await };
    for (label, isbn) in [
        ("a wrong check digit", "9780156027602"),
        ("an ISBN-10 (clients convert it)", "0156027607"),
        ("hyphens", "978-0-15-602760-1"),
        ("12 digits", "978015602760"),
        ("another barcode", "4006381333931"),
        ("letters", "97801560276O1"),
        ("an empty text (no ISBN is null)", ""),
    ] {
        let reply = alice
            .patch(&format!("/books?id=eq.{id}"), &json!({"isbn": isbn}))
            .await;
        assert!(
            reply.status == StatusCode::BAD_REQUEST && reply.message().contains("books_isbn_check"),
            "PATCH /books with {label} must be refused by books_isbn_check: {reply:?}"
        );
    }
    assert_eq!(
        row().await,
        "9780156027601",
        "no refused ISBN reached the row"
    );

    let other = book_id();
    let results = carol
        .push_ok(
            device.id,
            &[device.mutation(
                other,
                None,
                json!({"title": "Solaris", "isbn": "9780156027602"}),
            )],
        )
        .await;
    assert_eq!(
        results[0]["result"], "rejected",
        "sync_push rejects it: {}",
        results[0]
    );
    assert_eq!(
        results[0]["code"], "check_violation",
        "as a broken rule: {}",
        results[0]
    );
    assert!(
        results[0]["message"].as_str().is_some_and(
            |m| m.starts_with("isbn must be an ISBN-13") && m.contains("9780156027602")
        ),
        "the message names the field, the rule and the value: {}",
        results[0]
    );
    let shape = carol
        .push(
            device.id,
            &[device.mutation(
                other,
                None,
                json!({"title": "Solaris", "isbn": 9780156027601_i64}),
            )],
        )
        .await;
    assert_eq!(
        shape.status,
        StatusCode::BAD_REQUEST,
        "an ISBN that is not text fails the call like any shape error: {shape:?}"
    );
    assert!(
        shape
            .message()
            .contains("patch.isbn must be a string of 13 digits or null"),
        "and says what it must be: {shape:?}"
    );
}
