//! The user as the UI sees them ([`Profile`]), made from the ID token's claims (and userinfo
//! when the ID token carries no name or email). Saving it to Supabase's `profiles` table is the
//! sync engine's job, beside its other PostgREST calls.

use bookwish_ipc::Profile;
use openidconnect::core::{CoreGenderClaim, CoreIdTokenClaims};
use openidconnect::StandardClaims;

/// The naming claims of a user, from an ID token or userinfo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Names {
    pub(crate) name: Option<String>,
    pub(crate) given: Option<String>,
    pub(crate) family: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) email: Option<String>,
}

impl Names {
    pub(crate) fn of_id_token(claims: &CoreIdTokenClaims) -> Names {
        Names {
            name: claims
                .name()
                .and_then(|c| c.get(None))
                .map(|v| v.to_string()),
            given: claims
                .given_name()
                .and_then(|c| c.get(None))
                .map(|v| v.to_string()),
            family: claims
                .family_name()
                .and_then(|c| c.get(None))
                .map(|v| v.to_string()),
            username: claims.preferred_username().map(|v| v.to_string()),
            email: claims.email().map(|v| v.to_string()),
        }
    }

    pub(crate) fn of_userinfo(claims: &StandardClaims<CoreGenderClaim>) -> Names {
        Names {
            name: claims
                .name()
                .and_then(|c| c.get(None))
                .map(|v| v.to_string()),
            given: claims
                .given_name()
                .and_then(|c| c.get(None))
                .map(|v| v.to_string()),
            family: claims
                .family_name()
                .and_then(|c| c.get(None))
                .map(|v| v.to_string()),
            username: claims.preferred_username().map(|v| v.to_string()),
            email: claims.email().map(|v| v.to_string()),
        }
    }

    /// Whether the UI would have something better than the user id to show.
    pub(crate) fn is_empty(&self) -> bool {
        self.display_name().is_empty() && self.email().is_empty()
    }

    /// Claims from `self`, missing ones taken from `other`.
    pub(crate) fn or(self, other: Names) -> Names {
        Names {
            name: self.name.or(other.name),
            given: self.given.or(other.given),
            family: self.family.or(other.family),
            username: self.username.or(other.username),
            email: self.email.or(other.email),
        }
    }

    fn display_name(&self) -> String {
        let clean = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_owned();
        let name = clean(&self.name);
        if !name.is_empty() {
            return name;
        }
        let joined = [clean(&self.given), clean(&self.family)]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !joined.is_empty() {
            return joined;
        }
        clean(&self.username)
    }

    fn email(&self) -> String {
        self.email
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    }

    pub(crate) fn profile(&self, user_id: &str) -> Profile {
        let name = self.display_name();
        let email = self.email();
        Profile {
            user_id: user_id.to_owned(),
            initials: initials(&name, &email),
            name,
            email,
        }
    }
}

/// One or two capital letters for the avatar: first and last word of the name, else the
/// first letter of the email, else `?`.
pub(crate) fn initials(name: &str, email: &str) -> String {
    let first_letter = |word: &str| word.chars().find(|c| c.is_alphanumeric());
    let words: Vec<&str> = name.split_whitespace().collect();
    let letters: String = match words.as_slice() {
        [] => email
            .chars()
            .find(|c| c.is_alphanumeric())
            .into_iter()
            .collect(),
        [only] => first_letter(only).into_iter().collect(),
        [first, .., last] => first_letter(first)
            .into_iter()
            .chain(first_letter(last))
            .collect(),
    };
    let letters: String = letters.chars().flat_map(char::to_uppercase).collect();
    if letters.is_empty() {
        "?".to_owned()
    } else {
        letters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(
        name: Option<&str>,
        given: Option<&str>,
        family: Option<&str>,
        email: Option<&str>,
    ) -> Names {
        Names {
            name: name.map(Into::into),
            given: given.map(Into::into),
            family: family.map(Into::into),
            username: None,
            email: email.map(Into::into),
        }
    }

    #[test]
    fn initials_come_from_the_first_and_last_name() {
        assert_eq!(initials("Alice Liddell", ""), "AL");
        assert_eq!(initials("alice", "x@y"), "A");
        assert_eq!(initials("Jean-Luc de la Picard", ""), "JP");
        assert_eq!(initials("", "bob@example.com"), "B");
        assert_eq!(initials("  ", ""), "?");
        assert_eq!(initials("élodie ñúñez", ""), "ÉÑ");
    }

    #[test]
    fn the_profile_prefers_name_then_given_and_family() {
        let full = names(
            Some("Alice L."),
            Some("Alice"),
            Some("Liddell"),
            Some("a@x"),
        );
        assert_eq!(full.profile("user_1").name, "Alice L.");
        let parts = names(None, Some("Alice"), Some("Liddell"), None);
        let profile = parts.profile("user_1");
        assert_eq!(profile.name, "Alice Liddell");
        assert_eq!(profile.initials, "AL");
        assert_eq!(profile.email, "");
        assert_eq!(profile.user_id, "user_1");
    }

    #[test]
    fn userinfo_fills_what_the_id_token_lacks() {
        let token = names(None, None, None, None);
        assert!(token.is_empty(), "no name and no email");
        let merged = token.or(names(Some("Bob"), None, None, Some("bob@x")));
        let profile = merged.profile("user_2");
        assert_eq!(
            (profile.name.as_str(), profile.email.as_str()),
            ("Bob", "bob@x")
        );
    }
}
