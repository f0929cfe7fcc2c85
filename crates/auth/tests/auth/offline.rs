//! The provider going down: clear "can't reach" errors, and a session that survives it.

use anyhow::{Context, Result};
use bookwish_auth::Error;
use bookwish_stack::{Idp, IdpOptions, ALICE, BOB};

use crate::support::{browser, Fixture};

const CANT_REACH: &str = "Can't reach Clerk. Check your connection and try again.";

#[tokio::test]
async fn an_unreachable_provider_is_reported_and_the_session_survives() -> Result<()> {
    let idp = Idp::start(IdpOptions::default()).await?;
    let fixture = Fixture::for_issuer(idp.issuer())?;

    // Alice signed in; Bob's browser is on its way back when the provider goes down.
    let auth = fixture.auth()?;
    let link = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    let profile = auth.complete_sign_in(&link).await?;
    let other = Fixture::for_issuer(idp.issuer())?;
    let bob = other.auth()?;
    let bob_link = browser(&bob.begin_sign_in().await?, &BOB).await?;
    drop(idp);

    let error = auth.refresh().await.expect_err("the provider is down");
    assert!(matches!(error, Error::Unreachable(_)), "{error:?}");
    assert_eq!(error.to_string(), CANT_REACH, "the message says what to do");
    let ipc = bookwish_ipc::IpcError::from(error);
    assert_eq!(
        ipc.code,
        bookwish_ipc::ErrorCode::Offline,
        "the UI sees Offline"
    );
    assert_eq!(
        auth.profile(),
        Some(profile.clone()),
        "an offline refresh keeps the session"
    );
    assert!(
        fixture.stored_refresh(&ALICE)?.is_some(),
        "and its refresh token"
    );

    let error = bob
        .complete_sign_in(&bob_link)
        .await
        .expect_err("no token endpoint");
    assert!(
        error.is_offline(),
        "the code exchange reports the provider unreachable: {error:?}"
    );
    assert_eq!(bob.profile(), None, "bob is not signed in");

    // The next launch while offline: signed in with the remembered profile.
    let relaunched = fixture.auth()?;
    let restored = relaunched
        .restore()
        .await?
        .context("an offline launch keeps the account signed in")?;
    assert_eq!(restored, profile, "the remembered profile is shown");
    let error = relaunched
        .access_token()
        .await
        .expect_err("no token offline");
    assert!(error.is_offline(), "{error:?}");

    // Starting a sign-in while the provider is down.
    let error = other
        .auth()?
        .begin_sign_in()
        .await
        .expect_err("no discovery");
    assert_eq!(error.to_string(), CANT_REACH);

    // Signing out offline still forgets everything locally.
    relaunched.sign_out().await?;
    assert!(
        fixture.stored_refresh(&ALICE)?.is_none(),
        "offline sign-out deletes the entry"
    );
    Ok(())
}
