//! The title bar: the app's mark and name, and the account on the right (local-only with
//! Sign in, waiting for the browser, or signed in with Sign out); and the alert under it that
//! explains a failed sign-in.

use std::rc::Rc;

use bookwish_ipc::{AppInfo, ErrorCode, Profile};
use web_sys::HtmlElement;
use yew::prelude::*;

use super::icons;
use crate::actions;
use crate::state::{avatar_letters, AuthAction, AuthContext, AuthStep, Dispatch};

/// Properties of [`Header`].
#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    /// What `app_info` answered, once it has.
    pub info: Option<Rc<AppInfo>>,
}

/// The title bar.
#[component]
pub fn Header(props: &HeaderProps) -> Html {
    let auth = use_context::<AuthContext>();
    let dispatch = use_context::<Dispatch>();
    let cancel_ref = use_node_ref();

    // A keyboard user who pressed Sign in lands on Cancel, not on nothing.
    {
        let cancel_ref = cancel_ref.clone();
        let step = auth.as_ref().map(|auth| auth.step);
        use_effect_with(step, move |step| {
            if *step == Some(AuthStep::Waiting) {
                if let Some(button) = cancel_ref.cast::<HtmlElement>() {
                    let _ = button.focus();
                }
            }
        });
    }

    let account = match (auth, dispatch, props.info.as_deref()) {
        (Some(auth), Some(dispatch), Some(info)) if auth.account.is_some() => {
            account(&auth, &dispatch, info, cancel_ref)
        }
        _ => Html::default(),
    };
    html! {
        <header class="titlebar">
            <div class="brand">
                { icons::logo() }
                <span class="brand-name">{ "Bookwish" }</span>
            </div>
            <div class="titlebar-end">
                { account }
            </div>
        </header>
    }
}

fn account(auth: &AuthContext, dispatch: &Dispatch, info: &AppInfo, cancel_ref: NodeRef) -> Html {
    if let Some(profile) = auth.profile() {
        return signed_in(profile, auth.step == AuthStep::SigningOut, dispatch);
    }
    let stored = format!(
        "Your books are stored only on this computer, in {}",
        info.data_dir
    );
    let action = if auth.step == AuthStep::Waiting {
        let oncancel = {
            let dispatch = dispatch.clone();
            Callback::from(move |_: MouseEvent| actions::cancel_sign_in(&dispatch))
        };
        let waiting = "Waiting for you to finish signing in in your browser…";
        html! {
            <div class="sign-in-waiting" data-testid="sign-in-waiting" role="status">
                <span class="spinner" aria-hidden="true"></span>
                <span class="sign-in-waiting-text" title={waiting}>{ waiting }</span>
                <button type="button" class="btn btn-sm btn-ghost" data-testid="sign-in-cancel"
                    ref={cancel_ref} onclick={oncancel}>
                    { "Cancel" }
                </button>
            </div>
        }
    } else if auth.can_sign_in() {
        let onclick = {
            let dispatch = dispatch.clone();
            Callback::from(move |_: MouseEvent| actions::sign_in(&dispatch))
        };
        html! {
            <>
                <button type="button" class="btn btn-sm btn-primary sign-in" data-testid="sign-in"
                    title="Opens your browser to sign in with Clerk"
                    aria-describedby="sign-in-note" {onclick}>
                    { "Sign in" }
                    { icons::external() }
                </button>
                <span id="sign-in-note" class="visually-hidden">
                    { "Opens your browser to sign in with Clerk" }
                </span>
            </>
        }
    } else {
        html! {
            <span class="account-hint" data-testid="sign-in-hint" tabindex="0"
                title="Sync needs a Clerk issuer and client id in Bookwish's configuration \
                       file; until then everything stays on this computer.">
                { icons::info() }
                { "Sign-in isn't configured" }
            </span>
        }
    };
    html! {
        <div class="account">
            { action }
            <span class="account-badge" title={stored}>
                { icons::device() }
                <span data-testid="account-status">{ "Local only — not signed in" }</span>
            </span>
        </div>
    }
}

fn signed_in(profile: &Profile, signing_out: bool, dispatch: &Dispatch) -> Html {
    let onclick = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| actions::sign_out(&dispatch))
    };
    let has_name = !profile.name.trim().is_empty();
    let has_email = !profile.email.trim().is_empty();
    let who = match (has_name, has_email) {
        (true, true) => format!("{} <{}>", profile.name, profile.email),
        (true, false) => profile.name.clone(),
        (false, true) => profile.email.clone(),
        (false, false) => "your account".to_owned(),
    };
    let title = format!("Signed in as {who}. Your list syncs with this account.");
    html! {
        <div class="account">
            <div class="account-card" data-testid="account-status" title={title}>
                <span class="avatar avatar-lg" aria-hidden="true">
                    { avatar_letters(profile) }
                </span>
                <span class="account-who">
                    <span class="visually-hidden">{ "Signed in as " }</span>
                    if has_name {
                        <span class="account-name" data-testid="account-name">
                            { &profile.name }
                        </span>
                    } else if !has_email {
                        <span class="account-name" data-testid="account-name">
                            { "Signed in" }
                        </span>
                    }
                    if has_email {
                        <span class={classes!("account-email", (!has_name).then_some("account-email-only"))}
                            data-testid="account-email">{ &profile.email }</span>
                    }
                </span>
            </div>
            <button type="button" class="btn btn-sm" data-testid="sign-out"
                disabled={signing_out} {onclick}>
                { if signing_out { "Signing out…" } else { "Sign out" } }
            </button>
        </div>
    }
}

/// The alert under the title bar that explains a failed sign-in or sign-out, until the user
/// closes it or tries again.
#[component]
pub fn AuthAlert() -> Html {
    let (Some(auth), Some(dispatch)) = (use_context::<AuthContext>(), use_context::<Dispatch>())
    else {
        return Html::default();
    };
    let Some(problem) = auth.error.as_ref() else {
        return Html::default();
    };
    let ondismiss = {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            dispatch.auth.dispatch(AuthAction::Dismiss);
        })
    };
    let retry =
        (problem.retryable() && auth.can_sign_in() && auth.step == AuthStep::Idle).then(|| {
            let dispatch = dispatch.clone();
            let onclick = Callback::from(move |_: MouseEvent| actions::sign_in(&dispatch));
            html! {
                <button type="button" class="btn btn-sm" data-testid="auth-error-retry"
                    title="Opens your browser to sign in with Clerk" {onclick}>
                    { "Try again" }
                </button>
            }
        });
    let code = match problem.error.code {
        ErrorCode::Offline => "offline",
        ErrorCode::Config => "config",
        ErrorCode::Auth => "auth",
        ErrorCode::Storage => "storage",
        _ => "internal",
    };
    html! {
        <div class="auth-alert" data-testid="auth-error" data-code={code} role="alert">
            <span class="auth-alert-icon">{ icons::warning() }</span>
            <div class="auth-alert-body">
                <p class="auth-alert-title">{ problem.title() }</p>
                <p class="auth-alert-message">{ &problem.error.message }</p>
                if let Some(retry) = retry {
                    <div class="auth-alert-actions">{ retry }</div>
                }
            </div>
            <button type="button" class="icon-btn auth-alert-close" data-testid="auth-error-dismiss"
                aria-label="Dismiss" title="Dismiss" onclick={ondismiss}>
                { icons::close() }
            </button>
        </div>
    }
}
