//! Clerk's webhook events, from a verified body to what the database should do.
//!
//! Clerk's envelope is `{"object": "event", "type": "user.created", "data": {…}, "timestamp":
//! <ms>, "instance_id": …}`. For `user.created` / `user.updated`, `data` is Clerk's User object
//! (`id`, `email_addresses[]` with `id` and `email_address`, `primary_email_address_id`,
//! `first_name`, `last_name`, `username`, `image_url`, `updated_at` in milliseconds, and much
//! more that Bookwish does not keep). For `user.deleted` it is `{"object": "user", "id": …,
//! "deleted": true}`. Any other type is acknowledged and ignored.

use serde::Deserialize;

/// The database's limits (`profiles` CHECK constraints in migrations/).
pub const MAX_USER_ID: usize = 255;
/// Longest e-mail address `profiles.email` holds.
pub const MAX_EMAIL: usize = 320;
/// Longest display name `profiles.display_name` holds; a longer name is cut (it is for display).
pub const MAX_DISPLAY_NAME: usize = 200;
/// Longest image URL `profiles.image_url` holds.
pub const MAX_IMAGE_URL: usize = 2048;

/// Why a verified body is not an event we can act on.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not JSON, or not Clerk's envelope, or a user event without the fields it must have.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// Well-formed, but a value is outside what Bookwish stores (answered 422).
    #[error("{0}")]
    Unacceptable(String),
}

/// What a user event asks the database to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `user.created` or `user.updated`: upsert the profile, unless a later one was applied.
    Upsert(UserProfile),
    /// `user.deleted`: remove everything of the user.
    Delete {
        /// The Clerk user id.
        user_id: String,
    },
    /// Any other type: acknowledged, nothing done.
    Ignored {
        /// The event's type.
        kind: String,
    },
}

/// The profile columns a user event sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserProfile {
    /// The Clerk user id (`user_…`), the profile's primary key.
    pub user_id: String,
    /// The primary e-mail address, if the user has one.
    pub email: Option<String>,
    /// First and last name, else the username.
    pub display_name: Option<String>,
    /// Clerk's image URL (its generated avatar when the user set none).
    pub image_url: Option<String>,
    /// Clerk's `updated_at` (ms since 1970): orders events of one user.
    pub updated_at_ms: i64,
}

impl Event {
    /// The event type as Clerk names it, for logs.
    pub fn kind(&self) -> &str {
        match self {
            Event::Upsert(_) => "user.upsert",
            Event::Delete { .. } => "user.deleted",
            Event::Ignored { kind } => kind,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: serde_json::Value,
}

#[derive(Deserialize)]
struct ClerkUser {
    id: String,
    #[serde(default)]
    email_addresses: Vec<EmailAddress>,
    primary_email_address_id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    username: Option<String>,
    image_url: Option<String>,
    updated_at: i64,
}

#[derive(Deserialize)]
struct EmailAddress {
    id: String,
    email_address: String,
}

#[derive(Deserialize)]
struct DeletedUser {
    id: Option<String>,
}

/// Parses a verified body.
pub fn parse(body: &[u8]) -> Result<Event, EventError> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| EventError::Malformed(format!("not a Clerk event envelope: {e}")))?;
    match envelope.kind.as_str() {
        "user.created" | "user.updated" => {
            let user: ClerkUser = serde_json::from_value(envelope.data).map_err(|e| {
                EventError::Malformed(format!("{} without a user object: {e}", envelope.kind))
            })?;
            profile(user).map(Event::Upsert)
        }
        "user.deleted" => {
            let deleted: DeletedUser = serde_json::from_value(envelope.data).map_err(|e| {
                EventError::Malformed(format!("user.deleted without a deleted object: {e}"))
            })?;
            let user_id = deleted
                .id
                .ok_or_else(|| EventError::Malformed("user.deleted names no user id".into()))?;
            check_user_id(&user_id)?;
            Ok(Event::Delete { user_id })
        }
        _ => Ok(Event::Ignored {
            kind: envelope.kind,
        }),
    }
}

fn check_user_id(id: &str) -> Result<(), EventError> {
    let n = id.chars().count();
    if n == 0 || n > MAX_USER_ID {
        return Err(EventError::Malformed(format!(
            "the user id must be 1 to {MAX_USER_ID} characters, got {n}"
        )));
    }
    Ok(())
}

/// A trimmed, non-empty string, or none.
fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn profile(user: ClerkUser) -> Result<UserProfile, EventError> {
    check_user_id(&user.id)?;
    if user.updated_at < 0 {
        return Err(EventError::Malformed(
            "updated_at must be milliseconds since 1970".into(),
        ));
    }
    let email = user
        .primary_email_address_id
        .as_deref()
        .and_then(|primary| {
            user.email_addresses
                .iter()
                .find(|e| e.id == primary)
                .map(|e| e.email_address.clone())
        });
    let email = present(email);
    if let Some(email) = &email {
        let n = email.chars().count();
        if n > MAX_EMAIL {
            return Err(EventError::Unacceptable(format!(
                "the primary e-mail address has {n} characters; at most {MAX_EMAIL} are stored"
            )));
        }
    }
    let full = [present(user.first_name), present(user.last_name)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let display_name = present(Some(full))
        .or_else(|| present(user.username))
        .map(|name| name.chars().take(MAX_DISPLAY_NAME).collect::<String>())
        .map(|name| name.trim_end().to_owned());
    let image_url = present(user.image_url);
    if let Some(url) = &image_url {
        let n = url.chars().count();
        if n > MAX_IMAGE_URL {
            return Err(EventError::Unacceptable(format!(
                "the image URL has {n} characters; at most {MAX_IMAGE_URL} are stored"
            )));
        }
    }
    Ok(UserProfile {
        user_id: user.id,
        email,
        display_name,
        image_url,
        updated_at_ms: user.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user_event(kind: &str, data: serde_json::Value) -> Vec<u8> {
        json!({"object": "event", "type": kind, "data": data, "timestamp": 1_700_000_000_000i64,
               "instance_id": "ins_1"})
        .to_string()
        .into_bytes()
    }

    fn clerk_user() -> serde_json::Value {
        json!({
            "object": "user", "id": "user_29w83sxmDNGwOuEthce5gg56FcC",
            "first_name": " Example ", "last_name": "User", "username": "ex",
            "image_url": "https://img.clerk.com/xxxxxx", "has_image": true,
            "primary_email_address_id": "idn_2",
            "email_addresses": [
                {"id": "idn_1", "object": "email_address", "email_address": "old@example.org",
                 "verification": {"status": "verified", "strategy": "ticket"}, "linked_to": []},
                {"id": "idn_2", "object": "email_address", "email_address": "example@example.org",
                 "verification": null, "linked_to": []}
            ],
            "created_at": 1_654_012_591_514i64, "updated_at": 1_654_012_591_835i64,
            "public_metadata": {}, "private_metadata": {}, "unsafe_metadata": {},
            "phone_numbers": [], "web3_wallets": [], "external_accounts": []
        })
    }

    #[test]
    fn a_user_event_gives_the_primary_email_and_the_full_name() -> Result<(), EventError> {
        let event = parse(&user_event("user.created", clerk_user()))?;
        assert_eq!(
            event,
            Event::Upsert(UserProfile {
                user_id: "user_29w83sxmDNGwOuEthce5gg56FcC".into(),
                email: Some("example@example.org".into()),
                display_name: Some("Example User".into()),
                image_url: Some("https://img.clerk.com/xxxxxx".into()),
                updated_at_ms: 1_654_012_591_835,
            })
        );
        Ok(())
    }

    #[test]
    fn the_username_stands_in_for_a_missing_name_and_long_names_are_cut() -> Result<(), EventError>
    {
        let mut user = clerk_user();
        user["first_name"] = json!(null);
        user["last_name"] = json!("");
        user["primary_email_address_id"] = json!(null);
        let Event::Upsert(p) = parse(&user_event("user.updated", user.clone()))? else {
            panic!("user.updated must upsert");
        };
        assert_eq!(p.display_name.as_deref(), Some("ex"));
        assert_eq!(p.email, None, "no primary address: no e-mail");

        user["first_name"] = json!("é".repeat(300));
        let Event::Upsert(p) = parse(&user_event("user.updated", user))? else {
            panic!("user.updated must upsert");
        };
        assert_eq!(
            p.display_name.map(|n| n.chars().count()),
            Some(MAX_DISPLAY_NAME),
            "a display name is cut to what the table holds, on a character boundary"
        );
        Ok(())
    }

    #[test]
    fn deleted_unknown_and_malformed_events() {
        let deleted = parse(&user_event(
            "user.deleted",
            json!({"object": "user", "id": "user_1", "deleted": true}),
        ));
        assert_eq!(
            deleted.ok(),
            Some(Event::Delete {
                user_id: "user_1".into()
            })
        );
        let other = parse(&user_event("session.created", json!({"id": "sess_1"})));
        assert_eq!(
            other.ok(),
            Some(Event::Ignored {
                kind: "session.created".into()
            })
        );
        for (body, what) in [
            (b"{not json".to_vec(), "not JSON"),
            (b"[]".to_vec(), "not an envelope"),
            (
                user_event("user.created", json!({"id": "user_1"})),
                "no updated_at",
            ),
            (
                user_event("user.deleted", json!({"deleted": true})),
                "no id",
            ),
            (user_event("user.deleted", json!({"id": ""})), "empty id"),
        ] {
            assert!(
                matches!(parse(&body), Err(EventError::Malformed(_))),
                "{what} must be refused as malformed"
            );
        }
        let mut long_mail = clerk_user();
        long_mail["email_addresses"][1]["email_address"] = json!("a".repeat(400));
        assert!(
            matches!(
                parse(&user_event("user.updated", long_mail)),
                Err(EventError::Unacceptable(_))
            ),
            "an address longer than the column is refused, not cut"
        );
    }
}
