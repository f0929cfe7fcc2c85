//! Every kind of callback link the app must refuse, each with its own error, none changing
//! the session. Writes the table of cases to `test-output/rejected-callbacks.md`.

use std::fmt::Write as _;

use anyhow::{bail, Context, Result};
use bookwish_auth::{Auth, Error, ATTEMPT_LIFETIME, RECORD_FILE};
use bookwish_stack::ALICE;

use crate::support::{self, browser, param, variant, with_param, Fixture};

/// What must not change when a link is rejected.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    profile: Option<bookwish_auth::Profile>,
    access_token: Option<String>,
    stored_refresh: Option<String>,
    record: Option<String>,
}

async fn snapshot(fixture: &Fixture, auth: &Auth) -> Result<Snapshot> {
    let access_token = match auth.profile() {
        Some(_) => Some(auth.access_token().await?.expose().to_owned()),
        None => None,
    };
    Ok(Snapshot {
        profile: auth.profile(),
        access_token,
        stored_refresh: fixture.stored_refresh(&ALICE)?,
        record: std::fs::read_to_string(fixture.state_dir().join(RECORD_FILE)).ok(),
    })
}

struct Table {
    rows: Vec<[String; 4]>,
}

impl Table {
    /// Completes `link`, checks the error is `expected` and the session unchanged, adds a row.
    async fn case(
        &mut self,
        fixture: &Fixture,
        auth: &Auth,
        case: &str,
        link: &str,
        expected: &str,
    ) -> Result<Error> {
        let before = snapshot(fixture, auth).await?;
        let error = match auth.complete_sign_in(link).await {
            Ok(profile) => bail!(
                "{case}: the link must be rejected, but signed in {}",
                profile.user_id
            ),
            Err(error) => error,
        };
        let observed = variant(&error);
        let after = snapshot(fixture, auth).await?;
        assert_eq!(observed, expected, "{case}: wrong error ({error})");
        assert_eq!(
            before, after,
            "{case}: a rejected link must not change the session"
        );
        assert!(
            error.is_rejected_callback(),
            "{case}: classified as a rejected link"
        );
        self.rows.push([
            case.to_owned(),
            expected.to_owned(),
            format!("{observed}: \"{error}\""),
            "unchanged".to_owned(),
        ]);
        Ok(error)
    }

    fn markdown(&self) -> String {
        let mut out = String::from(
            "# Rejected sign-in callbacks\n\n\
             Each link was handed to `Auth::complete_sign_in` against the local stack's provider;\n\
             \"session\" compares profile, access token, keychain entry and sign-in record before\n\
             and after.\n\n\
             | case | expected error | observed | session |\n|---|---|---|---|\n",
        );
        for [case, expected, observed, session] in &self.rows {
            let _ = writeln!(out, "| {case} | `{expected}` | {observed} | {session} |");
        }
        out
    }
}

#[tokio::test]
async fn rejected_callbacks_each_have_their_error_and_change_nothing() -> Result<()> {
    let stack = support::stack().await?;
    let fixture = Fixture::on_stack().await?;
    let auth = fixture.auth()?;
    let mut table = Table { rows: Vec::new() };

    // Links that are not the app's callback URL, and forged states: the attempt stays pending.
    let real = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    let query = real
        .split_once('?')
        .map(|(_, q)| q)
        .context("the callback has a query")?;
    for (case, link) in [
        ("wrong scheme", format!("https://auth/callback?{query}")),
        ("wrong host", format!("bookwish://evil/callback?{query}")),
        ("wrong path", format!("bookwish://auth/other?{query}")),
    ] {
        table
            .case(&fixture, &auth, case, &link, "WrongCallback")
            .await?;
        assert!(
            auth.sign_in_pending(),
            "{case}: the real attempt is still pending"
        );
    }
    let forged = with_param(&real, "state", Some("forged-state"))?;
    table
        .case(&fixture, &auth, "wrong state", &forged, "StateMismatch")
        .await?;
    assert!(
        auth.sign_in_pending(),
        "a forged state must not end the real attempt"
    );
    let no_state = with_param(&real, "state", None)?;
    table
        .case(&fixture, &auth, "no state", &no_state, "StateMismatch")
        .await?;

    // The provider's error answer, with its description.
    let denied = with_param(
        &with_param(
            &with_param(&real, "code", None)?,
            "error",
            Some("access_denied"),
        )?,
        "error_description",
        Some("The user denied access"),
    )?;
    let error = table
        .case(&fixture, &auth, "error=access_denied", &denied, "Provider")
        .await?;
    assert!(
        error.to_string().contains("The user denied access"),
        "the provider's description reaches the user: {error}"
    );
    assert!(!auth.sign_in_pending(), "an error answer ends the attempt");

    // A matching state without a code.
    let authorize = auth.begin_sign_in().await?;
    let state = param(authorize.as_str(), "state").context("state")?;
    let no_code = format!(
        "bookwish://auth/callback?state={state}&iss={}",
        stack.issuer()
    );
    table
        .case(&fixture, &auth, "missing code", &no_code, "MissingCode")
        .await?;

    // A link from another issuer (mix-up).
    let link = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    let foreign = with_param(&link, "iss", Some("https://evil.example"))?;
    table
        .case(
            &fixture,
            &auth,
            "foreign issuer (iss)",
            &foreign,
            "IssuerMismatch",
        )
        .await?;

    // Too late: ten minutes after the start.
    let link = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    fixture.clock.advance(ATTEMPT_LIFETIME);
    table
        .case(
            &fixture,
            &auth,
            "expired attempt (10 min)",
            &link,
            "AttemptExpired",
        )
        .await?;

    // Cancelled in the app before the link came back.
    let link = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    auth.cancel_sign_in();
    table
        .case(&fixture, &auth, "cancelled attempt", &link, "Cancelled")
        .await?;

    // An older attempt's link after a newer one started.
    let old = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    let new = browser(&auth.begin_sign_in().await?, &ALICE).await?;
    table
        .case(
            &fixture,
            &auth,
            "superseded attempt",
            &old,
            "NoPendingAttempt",
        )
        .await?;

    // The newest link signs in; replaying it changes nothing in the signed-in session.
    let profile = auth.complete_sign_in(&new).await?;
    assert_eq!(profile.user_id, ALICE.sub, "the newest link signs alice in");
    table
        .case(
            &fixture,
            &auth,
            "replayed link (signed in)",
            &new,
            "NoPendingAttempt",
        )
        .await?;

    // A link nobody asked for, in an app that never started a sign-in.
    let fresh = fixture.auth()?;
    let result = fresh.complete_sign_in(&new).await;
    assert!(matches!(result, Err(Error::NoPendingAttempt)), "{result:?}");
    table.rows.push([
        "link without a sign-in started (new app)".into(),
        "NoPendingAttempt".into(),
        format!("NoPendingAttempt: \"{}\"", Error::NoPendingAttempt),
        "unchanged".into(),
    ]);

    auth.sign_out().await?;
    let report = table.markdown();
    std::fs::write(
        support::test_output()?.join("rejected-callbacks.md"),
        &report,
    )?;
    eprintln!("{report}");
    Ok(())
}
