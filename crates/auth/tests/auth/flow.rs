//! The whole life of a session: sign-in through the browser, refresh, restore at the next
//! launch from the keychain, sign-out.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bookwish_auth::{Error, SecretStore, RECORD_FILE};
use bookwish_stack::{ALICE, CAROL, CLIENT_ID};

use crate::support::{self, browser, param, Fixture};

#[tokio::test]
async fn sign_in_refresh_restore_and_sign_out() -> Result<()> {
    let stack = support::stack().await?;
    let fixture = Fixture::on_stack().await?;
    let auth = fixture.auth()?;
    let logs = support::logs();
    let mut secrets: Vec<String> = Vec::new();

    // Sign in: the authorize URL the shell would open, the browser, the deep link back.
    let started = Instant::now();
    let authorize = auth.begin_sign_in().await?;
    assert!(
        auth.sign_in_pending(),
        "begin_sign_in leaves one pending attempt"
    );
    let url = authorize.as_str();
    assert_eq!(
        param(url, "code_challenge_method").as_deref(),
        Some("S256"),
        "PKCE is S256"
    );
    assert!(
        param(url, "code_challenge").is_some_and(|c| c.len() == 43),
        "a SHA-256 challenge"
    );
    assert!(
        param(url, "state").is_some_and(|s| s.len() >= 16),
        "a random state"
    );
    assert!(
        param(url, "nonce").is_some_and(|n| n.len() >= 16),
        "a random nonce"
    );
    assert_eq!(
        param(url, "redirect_uri").as_deref(),
        Some("bookwish://auth/callback")
    );
    assert_eq!(param(url, "client_id").as_deref(), Some(CLIENT_ID));
    let scope = param(url, "scope").unwrap_or_default();
    for wanted in ["openid", "email", "profile", "offline_access"] {
        assert!(
            scope.split(' ').any(|s| s == wanted),
            "scope must ask for {wanted}: {scope}"
        );
    }
    assert!(
        param(url, "code_verifier").is_none(),
        "the verifier never leaves the app"
    );

    let link = browser(&authorize, &CAROL).await?;
    let profile = auth.complete_sign_in(&link).await?;
    let sign_in_time = started.elapsed();
    secrets.extend(param(&link, "code"));
    secrets.extend(param(&link, "state"));
    secrets.push(
        link.split_once('?')
            .map(|(_, q)| q.to_owned())
            .unwrap_or_default(),
    );
    assert_eq!(
        profile.user_id, CAROL.sub,
        "the profile is the ID token's subject"
    );
    assert_eq!(profile.name, CAROL.name);
    assert_eq!(profile.email, CAROL.email);
    assert_eq!(profile.initials, "CS");
    assert_eq!(auth.profile(), Some(profile.clone()), "signed in");
    assert!(!auth.sign_in_pending(), "the attempt is used up");

    // The refresh token is in the real Secret Service, filed under the user id.
    let first_refresh = fixture
        .stored_refresh(&CAROL)?
        .context("the refresh token must be in the keychain after sign-in")?;
    if let Ok(found) = std::process::Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            fixture.keychain.service(),
            "username",
            CAROL.sub,
        ])
        .output()
    {
        assert_eq!(
            String::from_utf8_lossy(&found.stdout).trim(),
            first_refresh,
            "the entry must be visible to other Secret Service clients (not an in-memory mock)"
        );
    }
    let record = std::fs::read_to_string(fixture.state_dir().join(RECORD_FILE))?;
    assert!(record.contains(CAROL.sub), "the record names the account");
    assert!(
        !record.contains(&first_refresh),
        "the record on disk holds no token"
    );

    // A fresh token is handed out as is; PostgREST accepts it.
    let token = auth.access_token().await?;
    assert_eq!(
        auth.access_token().await?.expose(),
        token.expose(),
        "a fresh access token is not refreshed"
    );
    let rest = fixture
        .config
        .supabase
        .clone()
        .context("the stack configures Supabase")?;
    let http = reqwest::Client::new();
    let written = http
        .post(format!("{}profiles", rest.rest_url))
        .header("apikey", &rest.anon_key)
        .header("Prefer", "resolution=merge-duplicates")
        .bearer_auth(token.expose())
        .json(&serde_json::json!({"id": CAROL.sub, "display_name": CAROL.name}))
        .send()
        .await?;
    assert!(
        written.status().is_success(),
        "PostgREST accepts the token for carol's own row: {}",
        written.status()
    );
    let rows = http
        .get(format!("{}profiles?select=id", rest.rest_url))
        .header("apikey", &rest.anon_key)
        .bearer_auth(token.expose())
        .send()
        .await?
        .text()
        .await?;
    assert_eq!(
        rows,
        format!("[{{\"id\":\"{}\"}}]", CAROL.sub),
        "the token reads only carol's row"
    );

    // Less than a minute left: the next call refreshes, and the refresh token rotates.
    fixture.clock.advance(Duration::from_secs(3600 - 59));
    let refreshed = auth.access_token().await?;
    assert_ne!(
        refreshed.expose(),
        token.expose(),
        "an almost expired token is refreshed"
    );
    let second_refresh = fixture
        .stored_refresh(&CAROL)?
        .context("still in the keychain")?;
    assert_ne!(
        second_refresh, first_refresh,
        "the rotated refresh token replaces the old one"
    );

    // Single flight: eight callers at once share one refresh. Two refreshes with the same
    // token would be reuse, which makes the provider revoke the whole grant.
    fixture.clock.advance(Duration::from_secs(3600 - 59));
    let callers = (0..8).map(|_| auth.access_token());
    let tokens = futures_join_all(callers).await;
    let first = tokens[0]
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .expose()
        .to_owned();
    for token in &tokens {
        let token = token.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        assert_eq!(
            token.expose(),
            first,
            "concurrent callers get the one refreshed token"
        );
    }
    assert_ne!(first, refreshed.expose(), "and it is a new one");
    auth.refresh()
        .await
        .context("the grant survives concurrent refreshes")?;

    // The next launch: a new Auth restores the session from the keychain.
    let relaunched = fixture.auth()?;
    assert_eq!(relaunched.profile(), None, "a new Auth starts empty");
    let restored = relaunched
        .restore()
        .await?
        .context("the session must be restored")?;
    assert_eq!(
        restored, profile,
        "the restored profile is the signed-in one"
    );
    relaunched
        .access_token()
        .await
        .context("a restored session has a token")?;

    // Sign-out revokes the refresh token, deletes the keychain entry and the record.
    let before_sign_out = fixture.stored_refresh(&CAROL)?.context("still stored")?;
    relaunched.sign_out().await?;
    assert_eq!(relaunched.profile(), None, "signed out");
    assert!(
        fixture.stored_refresh(&CAROL)?.is_none(),
        "sign-out deletes the keychain entry"
    );
    assert!(
        !fixture.state_dir().join(RECORD_FILE).exists(),
        "and the record"
    );
    assert!(
        matches!(relaunched.access_token().await, Err(Error::NotSignedIn)),
        "no token after sign-out"
    );
    let reuse = bookwish_stack::refresh(stack.issuer(), CLIENT_ID, &before_sign_out).await;
    assert!(
        reuse.is_err(),
        "the provider no longer accepts the revoked refresh token; log:\n{}",
        auth_lines(logs)
    );
    assert_eq!(
        fixture.auth()?.restore().await?,
        None,
        "nothing to restore after sign-out"
    );

    // Nothing secret was logged (by any test of this binary so far): no token, code, state or
    // callback query.
    secrets.extend([first_refresh, second_refresh, before_sign_out]);
    secrets.extend([token, refreshed].iter().map(|t| t.expose().to_owned()));
    secrets.push(first);
    let log = logs.text();
    assert!(
        log.contains("bookwish_auth::auth: signed in"),
        "the capture works"
    );
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        let leaks: Vec<&str> = log
            .lines()
            .filter(|line| line.contains(secret.as_str()))
            .collect();
        assert!(
            leaks.is_empty(),
            "a secret reached the log:\n{}",
            leaks.join("\n")
        );
    }

    report_sign_in_time(sign_in_time)?;
    Ok(())
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_ends_the_session() -> Result<()> {
    let stack = support::stack().await?;
    let fixture = Fixture::on_stack().await?;
    let auth = fixture.auth()?;
    let link = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    auth.complete_sign_in(&link).await?;
    let spent = fixture.stored_refresh(&ALICE)?.context("stored")?;
    auth.refresh().await?;

    // Someone replays the spent token (a stolen copy): the provider revokes the grant.
    let replay = bookwish_stack::refresh(stack.issuer(), CLIENT_ID, &spent).await;
    assert!(replay.is_err(), "a rotated refresh token is spent");

    let result = auth.refresh().await;
    assert!(
        matches!(result, Err(Error::SessionEnded)),
        "the session has ended: {result:?}"
    );
    assert_eq!(auth.profile(), None, "an ended session is signed out");
    assert!(
        fixture.stored_refresh(&ALICE)?.is_none(),
        "the dead refresh token is deleted"
    );
    assert_eq!(fixture.auth()?.restore().await?, None, "and not restored");
    Ok(())
}

/// At launch the sync engine asks for a token while the shell's restore may still be running
/// (found by the install test: sync answered "signed out" for a remembered account).
#[tokio::test]
async fn a_token_asked_for_before_or_during_the_launch_restore_restores_once() -> Result<()> {
    let fixture = Fixture::on_stack().await?;
    let auth = fixture.auth()?;
    let link = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    auth.complete_sign_in(&link).await?;

    let relaunched = fixture.auth()?;
    relaunched
        .access_token()
        .await
        .context("a token asked for before restore() restores the session itself")?;
    assert_eq!(
        relaunched.profile().map(|p| p.user_id),
        Some(ALICE.sub.to_owned()),
        "asking for a token restored alice's session"
    );

    // Both at once, as at launch: one refresh only (a second would spend the rotated token
    // and end the session), so both succeed and the grant stays alive.
    let racing = fixture.auth()?;
    let (restored, token) = tokio::join!(racing.restore(), racing.access_token());
    assert!(
        restored?.is_some() && token.is_ok(),
        "restore and a token request at once both succeed"
    );
    racing
        .refresh()
        .await
        .context("the grant survives a restore racing a token request")?;
    Ok(())
}

#[tokio::test]
async fn the_keychain_entry_is_per_account() -> Result<()> {
    let fixture = Fixture::on_stack().await?;
    let auth = fixture.auth()?;
    let link = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    auth.complete_sign_in(&link).await?;
    assert!(
        fixture.stored_refresh(&ALICE)?.is_some(),
        "alice's entry exists"
    );
    assert!(
        fixture.keychain.get(bookwish_stack::BOB.sub)?.is_none(),
        "no entry for an account that never signed in"
    );
    assert!(
        matches!(auth.begin_sign_in().await, Err(Error::AlreadySignedIn)),
        "a second sign-in needs a sign-out first"
    );
    auth.sign_out().await?;
    assert!(
        fixture.stored_refresh(&ALICE)?.is_none(),
        "sign-out removes alice's entry"
    );
    Ok(())
}

/// Awaits all futures concurrently on this task (no extra dependency for `join_all`).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => {
                        *result = Some(output);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.extend(results.into_iter().flatten());
    outputs
}

fn report_sign_in_time(elapsed: Duration) -> Result<()> {
    let millis = elapsed.as_secs_f64() * 1000.0;
    let text = format!(
        "# Sign-in time (core, local stack)\n\n\
         From `begin_sign_in` to a signed-in `Profile` returned by `complete_sign_in`, with the\n\
         headless browser's login in between (discovery, authorize, login form, redirects, code\n\
         exchange, ID-token validation, keychain write): **{millis:.0} ms**.\n"
    );
    std::fs::write(support::test_output()?.join("sign-in-time.md"), &text)?;
    eprintln!("sign-in, begin_sign_in to profile: {millis:.0} ms");
    Ok(())
}

/// This crate's log lines (without the HTTP stack's), for failure messages.
fn auth_lines(logs: &support::Logs) -> String {
    logs.text()
        .lines()
        .filter(|line| line.contains("bookwish_auth"))
        .collect::<Vec<_>>()
        .join("\n")
}
