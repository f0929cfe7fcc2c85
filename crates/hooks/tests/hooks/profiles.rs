//! Profiles follow Clerk: later events win, older ones arriving late change nothing, and the
//! app's own upsert keeps working next to them without undoing Clerk's values.

use bookwish_stack::CAROL;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn created_then_updated_then_an_older_update_arriving_late() {
    let user = fresh_user();
    let t0 = now_ms() - 60_000;
    let created = Delivery::signed(envelope(
        "user.created",
        clerk_user(&user, "first@bookwish.test", "Ada", "Lovelace", t0),
    ));
    let reply = created.send().await;
    assert_eq!(reply.result(), "applied", "created is applied: {reply:?}");

    let newer = Delivery::signed(envelope(
        "user.updated",
        clerk_user(&user, "second@bookwish.test", "Ada", "King", t0 + 20_000),
    ));
    let reply = newer.send().await;
    record(
        "user.updated, newer than stored",
        &reply,
        "1 profile + 1 delivery id",
    );
    assert_eq!(
        reply.result(),
        "applied",
        "a newer update is applied: {reply:?}"
    );

    let older = Delivery::signed(envelope(
        "user.updated",
        clerk_user(&user, "between@bookwish.test", "Ada", "Byron", t0 + 10_000),
    ));
    let before = profile(&user).await;
    let reply = older.send().await;
    record(
        "user.updated, older than stored (out of order)",
        &reply,
        "1 delivery id, profile unchanged",
    );
    assert_eq!(
        (reply.status, reply.result()),
        (StatusCode::OK, "stale"),
        "an older update is acknowledged and not applied: {reply:?}"
    );
    let after = profile(&user).await;
    assert_eq!(after, before, "an older event never overwrites newer data");
    assert_eq!(
        (after["email"].as_str(), after["display_name"].as_str()),
        (Some("second@bookwish.test"), Some("Ada King")),
        "the newest event's values stand"
    );
    assert_eq!(
        after["image_url"],
        format!("https://img.clerk.test/{user}/{}", t0 + 20_000),
        "the image URL is Clerk's"
    );
    assert!(
        delivery_recorded(&older.id).await,
        "a stale event is still recorded, so its redelivery is a duplicate"
    );
}

#[tokio::test]
async fn the_apps_upsert_and_clerks_events_share_the_row_and_clerk_wins() {
    let app = Api::as_user(CAROL).await;
    // The app signs in before Clerk's user.created arrives: its values stand for now.
    let reply = app
        .upsert_profile(&json!({"id": CAROL.sub, "email": "app@bookwish.test",
                                "display_name": "From The App",
                                "image_url": "https://attacker.test/x.png",
                                "clerk_updated_at": "2999-01-01T00:00:00Z"}))
        .await;
    assert!(
        reply.status.is_success(),
        "the app's upsert works: {reply:?}"
    );
    let row = profile(CAROL.sub).await;
    assert_eq!(
        row["display_name"], "From The App",
        "the app's values stand before Clerk's"
    );
    assert!(
        row["image_url"].is_null() && row["clerk_updated_at"].is_null(),
        "a client cannot write Clerk's columns: {row}"
    );

    let event = Delivery::signed(envelope(
        "user.created",
        clerk_user(CAROL.sub, "carol@clerk.test", "Carol", "Clerk", now_ms()),
    ));
    let reply = event.send().await;
    assert_eq!(
        reply.result(),
        "applied",
        "Clerk's event replaces the app's values: {reply:?}"
    );

    // The app signs in again with an ID token that says otherwise: Clerk's values stay.
    let reply = app
        .upsert_profile(&json!({"id": CAROL.sub, "email": "stale@bookwish.test",
                                "display_name": "Stale Token Name"}))
        .await;
    assert!(
        reply.status.is_success(),
        "the app's upsert still succeeds: {reply:?}"
    );
    let row = profile(CAROL.sub).await;
    assert_eq!(
        (row["email"].as_str(), row["display_name"].as_str()),
        (Some("carol@clerk.test"), Some("Carol Clerk")),
        "once Clerk has written the row, its e-mail and name win over the app's"
    );
    let read = app
        .request(reqwest::Method::GET, "/profiles?select=id,image_url", None)
        .await;
    assert_eq!(
        read.body[0]["image_url"]
            .as_str()
            .map(|u| u.starts_with("https://img.clerk.test/")),
        Some(true),
        "the app reads Clerk's image URL through PostgREST: {read:?}"
    );
}
