//! The title bar: the app's mark and name, and the account on the right.

use std::rc::Rc;

use bookwish_ipc::{Account, AppInfo};
use yew::prelude::*;

use super::icons;

/// Properties of [`Header`].
#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    /// What `app_info` answered, once it has.
    pub info: Option<Rc<AppInfo>>,
}

/// The title bar.
#[component]
pub fn Header(props: &HeaderProps) -> Html {
    html! {
        <header class="titlebar">
            <div class="brand">
                { icons::logo() }
                <span class="brand-name">{ "Bookwish" }</span>
            </div>
            <div class="titlebar-end">
                { props.info.as_deref().map(account).unwrap_or_default() }
            </div>
        </header>
    }
}

fn account(info: &AppInfo) -> Html {
    match &info.account {
        Account::LocalOnly { sign_in_available } => {
            let stored = format!(
                "Your books are stored only on this computer, in {}",
                info.data_dir
            );
            html! {
                <div class="account">
                    if !*sign_in_available {
                        <span class="account-hint" data-testid="sign-in-hint" tabindex="0"
                            title="Sync needs a Clerk issuer and client id in Bookwish's \
                                   configuration file; until then everything stays on this \
                                   computer.">
                            { icons::info() }
                            { "Sign-in isn't configured" }
                        </span>
                    }
                    <span class="account-badge" title={stored}>
                        { icons::device() }
                        <span data-testid="account-status">{ "Local only — not signed in" }</span>
                    </span>
                </div>
            }
        }
        Account::SignedIn { profile } => {
            let who = if profile.name.is_empty() {
                &profile.email
            } else {
                &profile.name
            };
            html! {
                <div class="account">
                    <span class="account-badge account-signed-in" title={profile.email.clone()}>
                        <span class="avatar" aria-hidden="true">{ &profile.initials }</span>
                        <span data-testid="account-status">{ format!("Signed in as {who}") }</span>
                    </span>
                </div>
            }
        }
    }
}
