//! What reaches the database and what does not: signatures, timestamps, rotation, replays,
//! sizes and malformed bodies.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

fn created(user: &str) -> String {
    envelope(
        "user.created",
        clerk_user(user, "reader@bookwish.test", "Ada", "Reader", now_ms()),
    )
}

/// Asserts the request was refused with `status`/`error` and wrote nothing, and records it.
async fn refused(case: &str, reply: Reply, status: StatusCode, error: &str, user: &str, msg: &str) {
    let stored = profile(user).await;
    let recorded = delivery_recorded(msg).await;
    record(
        case,
        &reply,
        if stored.is_null() && !recorded {
            "0"
        } else {
            "SOME"
        },
    );
    assert_eq!(
        (reply.status, reply.error()),
        (status, error),
        "{case}: must be refused as {status} {error}: {reply:?}"
    );
    assert!(
        stored.is_null(),
        "{case}: a refused delivery writes no profile: {stored}"
    );
    assert!(
        !recorded,
        "{case}: a refused delivery is not recorded as applied"
    );
}

#[tokio::test]
async fn a_delivery_is_applied_once_and_a_replay_does_nothing() {
    let user = fresh_user();
    let first = Delivery::signed(created(&user));
    let reply = first.send().await;
    assert_eq!(
        (reply.status, reply.result()),
        (StatusCode::OK, "applied"),
        "a signed user.created is applied: {reply:?}"
    );
    let stored = profile(&user).await;
    assert_eq!(
        stored["email"], "reader@bookwish.test",
        "the primary address is stored"
    );
    assert!(
        delivery_recorded(&first.id).await,
        "the svix-id is recorded"
    );
    record("user.created, signed", &reply, "1 profile + 1 delivery id");

    // Svix's retry: same id and body, new timestamp and signature.
    let retry = first.redelivered().send().await;
    // The very same request again, within the 5 minutes.
    let replay = first.send().await;
    let after = profile(&user).await;
    record(
        "the same svix-id again (Svix retry, or a replay)",
        &retry,
        "0",
    );
    for (what, reply) in [("a redelivery", retry), ("a replay", replay)] {
        assert_eq!(
            (reply.status, reply.result()),
            (StatusCode::OK, "duplicate"),
            "{what} of an applied message answers 200 duplicate: {reply:?}"
        );
    }
    assert_eq!(
        after, stored,
        "a redelivery changes nothing, not even updated_at"
    );
}

#[tokio::test]
async fn tampered_wrong_secret_and_unsigned_deliveries_are_refused() {
    let user = fresh_user();
    let good = Delivery::signed(created(&user));
    let mut tampered = good.clone();
    tampered.body = created(&user).replace("Ada", "Eve").into_bytes();
    refused(
        "body changed after signing",
        tampered.send().await,
        StatusCode::UNAUTHORIZED,
        "unverified",
        &user,
        &good.id,
    )
    .await;

    let wrong = Delivery::signed_with(SECRET_WRONG, fresh_msg(), now_s(), created(&user));
    refused(
        "signed with a secret the service does not know",
        wrong.send().await,
        StatusCode::UNAUTHORIZED,
        "unverified",
        &user,
        &wrong.id,
    )
    .await;

    let other_id = Delivery {
        id: fresh_msg(),
        ..good.clone()
    };
    refused(
        "signature of another svix-id",
        other_id.send().await,
        StatusCode::UNAUTHORIZED,
        "unverified",
        &user,
        &other_id.id,
    )
    .await;

    let no_signature = send(
        &[
            ("svix-id", good.id.clone()),
            ("svix-timestamp", good.timestamp.to_string()),
        ],
        good.body.clone(),
    )
    .await;
    refused(
        "no svix-signature header",
        no_signature,
        StatusCode::UNAUTHORIZED,
        "unverified",
        &user,
        &good.id,
    )
    .await;
    let no_headers = send(&[], good.body.clone()).await;
    refused(
        "no svix headers at all",
        no_headers,
        StatusCode::UNAUTHORIZED,
        "unverified",
        &user,
        &good.id,
    )
    .await;
    let garbage = send(
        &[
            ("svix-id", good.id.clone()),
            ("svix-timestamp", good.timestamp.to_string()),
            ("svix-signature", "v1,bm90IGEgc2lnbmF0dXJl".into()),
        ],
        good.body.clone(),
    )
    .await;
    refused(
        "a made-up signature",
        garbage,
        StatusCode::UNAUTHORIZED,
        "unverified",
        &user,
        &good.id,
    )
    .await;
}

#[tokio::test]
async fn timestamps_outside_five_minutes_are_refused() {
    let user = fresh_user();
    let stale = Delivery::signed_with(SECRET_NEW, fresh_msg(), now_s() - 6 * 60, created(&user));
    refused(
        "signed 6 minutes ago",
        stale.send().await,
        StatusCode::UNAUTHORIZED,
        "stale_timestamp",
        &user,
        &stale.id,
    )
    .await;
    let future = Delivery::signed_with(SECRET_NEW, fresh_msg(), now_s() + 6 * 60, created(&user));
    refused(
        "signed 6 minutes in the future",
        future.send().await,
        StatusCode::UNAUTHORIZED,
        "stale_timestamp",
        &user,
        &future.id,
    )
    .await;
    let late = Delivery::signed_with(SECRET_NEW, fresh_msg(), now_s() - 4 * 60, created(&user));
    let reply = late.send().await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "4 minutes old is inside the tolerance: {reply:?}"
    );
}

#[tokio::test]
async fn rotated_secrets_and_several_signatures_are_accepted() {
    let user = fresh_user();
    // While Clerk rotates, Svix signs with the old and the new secret: one header, two
    // signatures, the first of them unknown here.
    let id = fresh_msg();
    let ts = now_s();
    let body = created(&user);
    let header = format!(
        "{} {}",
        sign(SECRET_WRONG, &id, ts, body.as_bytes()),
        sign(SECRET_OLD, &id, ts, body.as_bytes())
    );
    let reply = send(
        &[
            ("svix-id", id.clone()),
            ("svix-timestamp", ts.to_string()),
            ("svix-signature", header),
        ],
        body.into_bytes(),
    )
    .await;
    record(
        "two signatures in the header, the second valid",
        &reply,
        "1 profile + 1 delivery id",
    );
    assert_eq!(
        (reply.status, reply.result()),
        (StatusCode::OK, "applied"),
        "any valid v1 signature in the header is enough: {reply:?}"
    );

    let other = fresh_user();
    let old = Delivery::signed_with(SECRET_OLD, fresh_msg(), now_s(), created(&other));
    let reply = old.send().await;
    record(
        "signed with the previous secret (both configured)",
        &reply,
        "1 profile + 1 delivery id",
    );
    assert_eq!(
        (reply.status, reply.result()),
        (StatusCode::OK, "applied"),
        "a message signed with either configured secret is accepted: {reply:?}"
    );
}

#[tokio::test]
async fn oversized_malformed_and_unacceptable_bodies_write_nothing() {
    let user = fresh_user();
    let mut big = clerk_user(&user, "big@bookwish.test", "Big", "Body", now_ms());
    big["unsafe_metadata"] = json!({"padding": "x".repeat(300 * 1024)});
    let oversized = Delivery::signed(envelope("user.updated", big));
    refused(
        "body over the 256 KiB cap (Content-Length)",
        oversized.send().await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        &user,
        &oversized.id,
    )
    .await;

    // The same without a Content-Length: the cap holds while reading.
    let streamed = send_chunked(&oversized).await;
    refused(
        "body over the cap, chunked (no Content-Length)",
        streamed,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        &user,
        &oversized.id,
    )
    .await;

    let malformed = Delivery::signed(r#"{"type": "user.created", "data": {"id": "#);
    refused(
        "signed, but not JSON",
        malformed.send().await,
        StatusCode::BAD_REQUEST,
        "malformed_event",
        &user,
        &malformed.id,
    )
    .await;

    let no_updated_at = Delivery::signed(envelope("user.updated", json!({"id": user})));
    refused(
        "signed user.updated without updated_at",
        no_updated_at.send().await,
        StatusCode::BAD_REQUEST,
        "malformed_event",
        &user,
        &no_updated_at.id,
    )
    .await;

    let not_utf8 = send(
        &[
            ("svix-id", fresh_msg()),
            ("svix-timestamp", now_s().to_string()),
            ("svix-signature", "v1,AAAA".into()),
        ],
        vec![0xff, 0xfe, b'{', b'}'],
    )
    .await;
    refused(
        "body not UTF-8",
        not_utf8,
        StatusCode::BAD_REQUEST,
        "malformed_body",
        &user,
        "-",
    )
    .await;

    let mut long = clerk_user(
        &user,
        &format!("{}@bookwish.test", "a".repeat(400)),
        "A",
        "B",
        now_ms(),
    );
    long["image_url"] = Value::Null;
    let unacceptable = Delivery::signed(envelope("user.updated", long));
    refused(
        "e-mail longer than profiles.email holds",
        unacceptable.send().await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unacceptable_event",
        &user,
        &unacceptable.id,
    )
    .await;
}

/// Sends a delivery with `Transfer-Encoding: chunked` over a plain socket (no Content-Length
/// for the service to look at).
async fn send_chunked(d: &Delivery) -> Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = hooks_url().await;
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').expect("host/path");
    let mut socket = tokio::net::TcpStream::connect(host).await.expect("connect");
    let head = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         svix-id: {}\r\nsvix-timestamp: {}\r\nsvix-signature: {}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        d.id, d.timestamp, d.signature
    );
    socket.write_all(head.as_bytes()).await.expect("write head");
    for chunk in d.body.chunks(16 * 1024) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if socket.write_all(&framed).await.is_err() {
            break; // the service may answer and close before the whole body is sent
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("an HTTP status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    Reply {
        status: StatusCode::from_u16(status).expect("a status"),
        body: serde_json::from_str(body).unwrap_or(Value::String(body.to_owned())),
    }
}

#[tokio::test]
async fn unknown_event_types_are_acknowledged_and_ignored() {
    let delivery = Delivery::signed(envelope(
        "session.created",
        json!({"object": "session", "id": "sess_1", "user_id": "user_x"}),
    ));
    let reply = delivery.send().await;
    record(
        "session.created (a type Bookwish does not use)",
        &reply,
        "0",
    );
    assert_eq!(
        (reply.status, reply.result()),
        (StatusCode::OK, "ignored"),
        "unknown types are acknowledged so Svix stops retrying: {reply:?}"
    );
    assert!(
        !delivery_recorded(&delivery.id).await,
        "an ignored event writes nothing"
    );
}

#[tokio::test]
async fn health_answers_when_the_database_does() {
    let url = hooks_url().await.replace("/webhooks/clerk", "/health");
    let reply = read(reqwest::get(url).await.expect("health answers")).await;
    assert_eq!(
        (reply.status, reply.body.clone()),
        (StatusCode::OK, json!({"status": "ok"})),
        "health is ok while the database answers"
    );
}

/// A receiver whose database is not there (its own process, pointed at a closed port).
struct Orphan(std::process::Child);

impl Drop for Orphan {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn without_its_database_the_service_answers_503_and_svix_retries() {
    let ports: Vec<u16> = (0..2)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free port")
        })
        .collect();
    let (listen, closed) = (ports[0], ports[1]);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_bookwish-hooks"))
        .env("CLERK_WEBHOOK_SECRET", SECRET_NEW)
        .env(
            "DATABASE_URL",
            format!("postgres://bookwish_hooks:x@127.0.0.1:{closed}/postgres?connect_timeout=2"),
        )
        .env("BOOKWISH_HOOKS_LISTEN", format!("127.0.0.1:{listen}"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start bookwish-hooks");
    let _orphan = Orphan(child);
    let base = format!("http://127.0.0.1:{listen}");
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let health = loop {
        if let Ok(resp) = client.get(format!("{base}/health")).send().await {
            break read(resp).await;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the service must listen even while its database is away"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("database_unavailable")
        ),
        "health reports the missing database: {health:?}"
    );
    let delivery = Delivery::signed(created(&fresh_user()));
    let resp = client
        .post(format!("{base}/webhooks/clerk"))
        .header("svix-id", &delivery.id)
        .header("svix-timestamp", delivery.timestamp.to_string())
        .header("svix-signature", &delivery.signature)
        .body(delivery.body.clone())
        .send()
        .await
        .expect("the service answers");
    let reply = read(resp).await;
    record("signed, but the database is unreachable", &reply, "0");
    assert_eq!(
        (reply.status, reply.error()),
        (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
        "a delivery the database cannot take is answered 503, so Svix retries it: {reply:?}"
    );
}
