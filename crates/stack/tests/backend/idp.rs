//! The provider behaves like Clerk's OAuth endpoints: discovery, PKCE-only public client,
//! Clerk-shaped subjects, JWT access tokens for the API audience, rotating refresh tokens.

use bookwish_stack::{jwt_claims, Error, ALICE, BOB, CLIENT_ID, DEFAULT_AUDIENCE, REDIRECT_URI};
use reqwest::{redirect, StatusCode};
use serde_json::Value;

use crate::support::{login, stack};

#[tokio::test]
async fn discovery_matches_clerk_routes() {
    let s = stack().await;
    let doc: Value = reqwest::get(format!("{}/.well-known/openid-configuration", s.issuer()))
        .await
        .expect("discovery answers")
        .json()
        .await
        .expect("discovery is JSON");
    let issuer = s.issuer();
    for (key, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("userinfo_endpoint", "/oauth/userinfo"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("revocation_endpoint", "/oauth/revoke"),
    ] {
        assert_eq!(
            doc[key],
            format!("{issuer}{path}"),
            "{key} must be Clerk's route {path}"
        );
    }
    assert_eq!(
        doc["issuer"], issuer,
        "the issuer is the provider's base URL"
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"]),
        "only S256 PKCE is offered"
    );
}

#[tokio::test]
async fn login_yields_clerk_shaped_tokens() {
    let tokens = login(ALICE).await;
    let access = tokens.access_claims().expect("the access token is a JWT");
    assert_eq!(
        access["sub"], ALICE.sub,
        "sub is alice's Clerk-shaped user id"
    );
    assert!(ALICE.sub.starts_with("user_"), "user ids look like Clerk's");
    assert_eq!(
        access["aud"], DEFAULT_AUDIENCE,
        "the access token is for the API audience"
    );
    assert!(
        access.get("role").is_none(),
        "OAuth access tokens carry no role, like Clerk's"
    );
    assert_eq!(
        access["client_id"], CLIENT_ID,
        "issued to the desktop client"
    );
    let id = jwt_claims(tokens.id_token.as_deref().expect("an ID token")).expect("a JWT");
    assert_eq!(id["aud"], CLIENT_ID, "the ID token is for the client");
    assert_eq!(id["email"], ALICE.email, "the ID token carries the email");
    assert!(
        tokens.refresh_token.is_some(),
        "offline_access yields a refresh token"
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_is_refused() {
    let s = stack().await;
    let first = login(BOB).await;
    let rt1 = first.refresh_token.expect("a refresh token");
    let second = bookwish_stack::refresh(s.issuer(), CLIENT_ID, &rt1)
        .await
        .expect("a fresh refresh token works once");
    let rt2 = second.refresh_token.expect("a rotated refresh token");
    assert_ne!(rt1, rt2, "refresh tokens rotate on use");
    let reuse = bookwish_stack::refresh(s.issuer(), CLIENT_ID, &rt1).await;
    assert!(reuse.is_err(), "a spent refresh token must be refused");
}

#[tokio::test]
async fn wrong_password_and_missing_pkce_are_refused() {
    let s = stack().await;
    let wrong = s.login(ALICE.username, "not-her-password").await;
    assert!(
        matches!(wrong, Err(Error::Login(ref m)) if m.contains("wrong password")),
        "a wrong password must fail the login: {wrong:?}"
    );

    let http = reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .expect("client");
    let resp = http
        .get(format!("{}/oauth/authorize", s.issuer()))
        .query(&[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .send()
        .await
        .expect("authorize answers");
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "errors go back to the redirect URI"
    );
    let location = resp.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        location.starts_with(REDIRECT_URI) && location.contains("error=invalid_request"),
        "an authorization request without PKCE must be refused: {location}"
    );
}
