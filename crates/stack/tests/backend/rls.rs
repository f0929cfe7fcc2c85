//! RLS audit: every way a client could reach another user's rows, through the real PostgREST
//! with tokens from the real provider. Each case is recorded in test-output/rls-audit.md.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bookwish_stack::{jwt_claims, Idp, IdpOptions, ALICE, BOB, DAVE, SESSION_CLIENT_ID};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{audit, book_id, books_with_id, brief, login, sql, stack, Api, Device};

const ALICE_HOBBIT: &str = "01936a3c-0000-7000-8000-00000000a001";

async fn alice_hobbit_row() -> String {
    sql(&format!(
        "select title || '|' || deleted || '|' || version from books where id = '{ALICE_HOBBIT}'"
    ))
    .await
}

#[tokio::test]
async fn owners_read_their_own_books_and_nobody_elses() {
    let alice = Api::as_user(ALICE).await;
    let bob = Api::as_user(BOB).await;

    let mine = alice.get("/books?select=id,title,user_id").await;
    let rows = mine.body.as_array().cloned().unwrap_or_default();
    let titles: Vec<&str> = rows.iter().filter_map(|r| r["title"].as_str()).collect();
    audit(
        "01 alice lists books",
        "200, her seed books (The Hobbit, Dune), only hers",
        format!(
            "{} titles {:?}",
            mine.status.as_u16(),
            &titles[..titles.len().min(4)]
        ),
        mine.status == StatusCode::OK
            && titles.contains(&"The Hobbit")
            && titles.contains(&"Dune")
            && rows.iter().all(|r| r["user_id"] == ALICE.sub),
    );

    let theirs = bob.get(&format!("/books?id=eq.{ALICE_HOBBIT}")).await;
    audit(
        "02 bob reads alice's book by id",
        "200 []",
        brief(&theirs),
        theirs.status == StatusCode::OK && theirs.body == json!([]),
    );

    let all = bob.get("/books?select=user_id").await;
    let leaked = all
        .body
        .as_array()
        .map(|rows| rows.iter().filter(|r| r["user_id"] != BOB.sub).count())
        .unwrap_or(usize::MAX);
    audit(
        "03 bob lists all books",
        "only bob's rows",
        format!("{} rows of other users: {leaked}", all.status.as_u16()),
        all.status == StatusCode::OK && leaked == 0,
    );

    let pulled = bob.pull(0, 1000).await;
    let foreign = pulled.body["rows"]
        .as_array()
        .map(|rows| rows.iter().filter(|r| r["id"] == ALICE_HOBBIT).count())
        .unwrap_or(usize::MAX);
    audit(
        "04 bob sync_pull(0)",
        "none of alice's rows",
        format!("{} alice rows: {foreign}", pulled.status.as_u16()),
        pulled.status == StatusCode::OK && foreign == 0,
    );
}

#[tokio::test]
async fn bob_cannot_update_tombstone_or_push_into_alices_books() {
    let bob = Api::as_user(BOB).await;
    let before = alice_hobbit_row().await;

    let update = bob
        .patch(
            &format!("/books?id=eq.{ALICE_HOBBIT}"),
            &json!({"title": "pwned"}),
        )
        .await;
    let after = alice_hobbit_row().await;
    audit(
        "05 bob PATCHes alice's title",
        "no row matched ([]), alice's row unchanged",
        format!("{}; row {after}", brief(&update)),
        update.body == json!([]) && after == before,
    );

    let tombstone = bob
        .patch(
            &format!("/books?id=eq.{ALICE_HOBBIT}"),
            &json!({"deleted": true}),
        )
        .await;
    let after = alice_hobbit_row().await;
    audit(
        "06 bob tombstones alice's book (PATCH deleted=true)",
        "no row matched ([]), alice's row unchanged",
        format!("{}; row {after}", brief(&tombstone)),
        tombstone.body == json!([]) && after == before,
    );

    let mut device = Device::new();
    let base = before.rsplit('|').next().and_then(|v| v.parse().ok());
    let m = device.mutation(
        ALICE_HOBBIT.parse().expect("uuid"),
        base,
        json!({"title": "pwned", "deleted": true}),
    );
    let results = bob.push_ok(device.id, &[m]).await;
    let after = alice_hobbit_row().await;
    audit(
        "07 bob sync_push into alice's book id",
        "gone (bob has no such book), alice's row unchanged",
        format!("{}; row {after}", results[0]["result"]),
        results[0]["result"] == "gone" && after == before,
    );
}

#[tokio::test]
async fn forged_owner_is_refused() {
    let bob = Api::as_user(BOB).await;
    let id = book_id();
    let forged = bob
        .post(
            "/books",
            &json!({"id": id, "title": "Planted", "user_id": ALICE.sub}),
        )
        .await;
    let stored = books_with_id(id).await;
    audit(
        "08 bob inserts a book with user_id = alice",
        "401/403 (RLS), nothing stored",
        format!("{}; rows stored {stored}", brief(&forged)),
        matches!(forged.status.as_u16(), 401 | 403) && stored == 0,
    );

    let profile = bob
        .post(
            "/profiles",
            &json!({"id": ALICE.sub, "display_name": "Not Alice"}),
        )
        .await;
    let name = sql(&format!(
        "select display_name from profiles where id = '{}'",
        ALICE.sub
    ))
    .await;
    audit(
        "09 bob writes a profile with alice's id",
        "401/403/409, alice's profile unchanged",
        format!("{}; alice's display_name {name:?}", brief(&profile)),
        matches!(profile.status.as_u16(), 401 | 403 | 409) && name == ALICE.name,
    );

    let bobs_view = bob.get(&format!("/profiles?id=eq.{}", ALICE.sub)).await;
    audit(
        "10 bob reads alice's profile",
        "200 []",
        brief(&bobs_view),
        bobs_view.status == StatusCode::OK && bobs_view.body == json!([]),
    );
}

#[tokio::test]
async fn clients_cannot_hard_delete_or_touch_sync_internals() {
    let alice = Api::as_user(ALICE).await;
    let id = book_id();
    let created = alice
        .post("/books", &json!({"id": id, "title": "Keep me"}))
        .await;
    assert_eq!(
        created.status,
        StatusCode::CREATED,
        "alice must be able to create her own book: {created:?}"
    );
    let delete = alice.delete(&format!("/books?id=eq.{id}")).await;
    let left = books_with_id(id).await;
    audit(
        "11 alice hard-deletes her own book",
        "refused (no delete grant/policy), row kept",
        format!("{}; rows left {left}", brief(&delete)),
        matches!(delete.status.as_u16(), 401 | 403) && left == 1,
    );

    let counter = alice
        .patch(
            &format!("/sync_state?user_id=eq.{}", ALICE.sub),
            &json!({"seq": 0}),
        )
        .await;
    audit(
        "12 alice rewinds her version counter (PATCH sync_state)",
        "refused (read-only to clients)",
        brief(&counter),
        matches!(counter.status.as_u16(), 401 | 403),
    );

    let bob = Api::as_user(BOB).await;
    let ledgers = bob.get("/sync_ledger?select=user_id").await;
    let states = bob.get("/sync_state?select=user_id").await;
    let foreign = |r: &Value| {
        r.as_array()
            .map(|rows| rows.iter().filter(|x| x["user_id"] != BOB.sub).count())
            .unwrap_or(usize::MAX)
    };
    audit(
        "13 bob reads sync_ledger and sync_state",
        "only his own rows",
        format!(
            "{} / {}; foreign rows {} / {}",
            ledgers.status.as_u16(),
            states.status.as_u16(),
            foreign(&ledgers.body),
            foreign(&states.body)
        ),
        ledgers.status == StatusCode::OK
            && states.status == StatusCode::OK
            && foreign(&ledgers.body) == 0
            && foreign(&states.body) == 0,
    );
}

#[tokio::test]
async fn no_token_and_bare_roles_see_nothing() {
    let anon = Api::new(None).await;
    let read = anon.get("/books").await;
    audit(
        "14 no token: GET /books",
        "200 []",
        brief(&read),
        read.status == StatusCode::OK && read.body == json!([]),
    );
    let id = book_id();
    let write = anon
        .post("/books", &json!({"id": id, "title": "Anon"}))
        .await;
    audit(
        "15 no token: POST /books",
        "401, nothing stored",
        format!("{}; stored {}", brief(&write), books_with_id(id).await),
        write.status == StatusCode::UNAUTHORIZED && books_with_id(id).await == 0,
    );
    let pull = anon.pull(0, 10).await;
    audit(
        "16 no token: rpc sync_pull",
        "401 (needs a signed-in user)",
        brief(&pull),
        pull.status == StatusCode::UNAUTHORIZED,
    );
    let push = anon.push(Device::new().id, &[]).await;
    audit(
        "17 no token: rpc sync_push",
        "401",
        brief(&push),
        push.status == StatusCode::UNAUTHORIZED,
    );

    let s = stack().await;
    for (case, role) in [
        ("18 role anon without claims (SQL)", "anon"),
        (
            "19 role authenticated without claims (SQL)",
            "authenticated",
        ),
    ] {
        let seen = s
            .psql_as(
                role,
                None,
                "select count(*) from books; select count(*) from profiles;",
            )
            .await
            .expect("a bare role can run a select");
        let insert = s
            .psql_as(
                role,
                None,
                &format!(
                    "insert into books (id, user_id, title) values ('{}', 'x', 't')",
                    book_id()
                ),
            )
            .await;
        audit(
            case,
            "0 books, 0 profiles; insert refused",
            format!(
                "counts {:?}; insert {}",
                seen.replace('\n', ","),
                match &insert {
                    Ok(_) => "accepted".to_owned(),
                    Err(e) => e.to_string().chars().take(70).collect(),
                }
            ),
            seen == "0\n0" && insert.is_err(),
        );
    }
}

fn replace_payload(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = jwt_claims(token).expect("the IdP issues JWT access tokens");
    edit(&mut claims);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{}.{}", parts[0], payload, parts[2])
}

#[tokio::test]
async fn tampered_unsigned_wrong_key_and_wrong_audience_tokens_get_401() {
    let bob = login(BOB).await;

    let tampered = replace_payload(&bob.access_token, |c| c["sub"] = json!(ALICE.sub));
    let reply = Api::new(Some(&tampered)).await.get("/books").await;
    audit(
        "20 tampered token (bob's, sub changed to alice)",
        "401",
        brief(&reply),
        reply.status == StatusCode::UNAUTHORIZED,
    );

    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload =
        URL_SAFE_NO_PAD.encode(jwt_claims(&bob.access_token).expect("claims").to_string());
    let unsigned = format!("{header}.{payload}.");
    let reply = Api::new(Some(&unsigned)).await.get("/books").await;
    audit(
        "21 unsigned token (alg none)",
        "401",
        brief(&reply),
        reply.status == StatusCode::UNAUTHORIZED,
    );

    // A provider with its own keys: a real token, signed by a key PostgREST does not trust.
    let rogue = Idp::start(IdpOptions::default())
        .await
        .expect("a second provider starts");
    let foreign = rogue
        .login(ALICE.username, ALICE.password)
        .await
        .expect("alice signs in at the second provider");
    let reply = Api::new(Some(&foreign.access_token))
        .await
        .get("/books")
        .await;
    audit(
        "22 token signed by an unknown key",
        "401",
        brief(&reply),
        reply.status == StatusCode::UNAUTHORIZED,
    );
    drop(rogue);

    let id_token = bob.id_token.clone().expect("an ID token");
    let reply = Api::new(Some(&id_token)).await.get("/books").await;
    audit(
        "23 ID token used as access token (aud = client id)",
        "401",
        brief(&reply),
        reply.status == StatusCode::UNAUTHORIZED,
    );

    let reply = Api::new(Some("not-a-jwt")).await.get("/books").await;
    audit(
        "24 garbage bearer token",
        "401",
        brief(&reply),
        reply.status == StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn expired_token_gets_401() {
    let s = stack().await;
    // Same signing keys as the stack's provider (so PostgREST trusts it), 1 s access tokens.
    let short = Idp::start(IdpOptions {
        key_dir: Some(s.idp().expect("the stack's provider").key_dir().to_owned()),
        access_token_ttl: Some(1),
        ..IdpOptions::default()
    })
    .await
    .expect("a short-lived-token provider starts");
    let tokens = short
        .login(ALICE.username, ALICE.password)
        .await
        .expect("alice signs in");
    let claims = tokens.access_claims().expect("claims");
    let exp = claims["exp"].as_u64().expect("exp");
    assert!(
        exp <= crate::support::now_ms() / 1000 + 2,
        "the provider must honour BOOKWISH_IDP_ACCESS_TTL=1 (exp {exp})"
    );
    let api = Api::new(Some(&tokens.access_token)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let reply = loop {
        let reply = api.get("/books").await;
        if reply.status != StatusCode::OK || std::time::Instant::now() > deadline {
            break reply;
        }
        assert!(
            crate::support::now_ms() / 1000 <= exp + 60,
            "PostgREST must refuse a token long after its exp"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    let late = crate::support::now_ms() / 1000 - exp;
    audit(
        "25 expired token",
        "401 (JWT expired)",
        format!("{} ~{late}s after exp", brief(&reply)),
        reply.status == StatusCode::UNAUTHORIZED && reply.message().contains("expired"),
    );
}

#[tokio::test]
async fn tokens_with_and_without_role_reach_only_their_own_rows() {
    // Dave: bob's counter is watched by the bad-input tests running alongside.
    let s = stack().await;
    for (case, client, role, delete_status) in [
        (
            "26 token without role claim (Clerk OAuth access token): runs as anon",
            bookwish_stack::CLIENT_ID,
            Value::Null,
            401,
        ),
        (
            "27 token with role authenticated (Clerk session token): runs as authenticated",
            SESSION_CLIENT_ID,
            json!("authenticated"),
            403,
        ),
    ] {
        let tokens = s
            .login_client(client, DAVE.username, DAVE.password)
            .await
            .expect("dave signs in");
        let claims = tokens.access_claims().expect("claims");
        assert_eq!(
            claims["role"], role,
            "the {client} token must carry role {role}"
        );
        let api = Api::new(Some(&tokens.access_token)).await;
        let id = book_id();
        let created = api
            .post("/books", &json!({"id": id, "title": "Own book"}))
            .await;
        let own = api.get(&format!("/books?id=eq.{id}")).await;
        let all = api.get("/books?select=user_id").await;
        let foreign = all
            .body
            .as_array()
            .map(|rows| rows.iter().filter(|r| r["user_id"] != DAVE.sub).count())
            .unwrap_or(usize::MAX);
        let alices = api.get(&format!("/books?id=eq.{ALICE_HOBBIT}")).await;
        // Deleting is refused either way; the status tells which role PostgREST used.
        let delete = api.delete(&format!("/books?id=eq.{id}")).await;
        audit(
            case,
            &format!(
                "creates + reads own, 0 foreign rows, alice's book [], DELETE {delete_status}"
            ),
            format!(
                "create {}, own {}, foreign {foreign}, alice's {}, DELETE {}",
                created.status.as_u16(),
                own.body.as_array().map_or(0, Vec::len),
                alices.body,
                delete.status.as_u16()
            ),
            created.status == StatusCode::CREATED
                && own.body.as_array().map_or(0, Vec::len) == 1
                && foreign == 0
                && alices.body == json!([])
                && delete.status.as_u16() == delete_status,
        );
    }
}
