//! A string that must never be printed: tokens, codes, verifiers.

use std::fmt;

use zeroize::Zeroize;

/// A secret string (access, ID or refresh token). `Debug` and `Display` print `<redacted>`, so
/// a secret that slips into a log line or an error message shows nothing; the memory is wiped
/// when it is dropped. Read it only where it is sent: [`SecretString::expose`].
#[derive(Clone, Default)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        SecretString(secret.into())
    }

    /// The secret itself, for the one place that sends it (a header, the keychain).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(secret: String) -> Self {
        SecretString(secret)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_its_content() {
        let secret = SecretString::new("eyJhbGciOi.token.sig");
        assert_eq!(format!("{secret}"), "<redacted>", "Display must redact");
        assert_eq!(
            format!("{secret:?}"),
            "SecretString(<redacted>)",
            "Debug must redact"
        );
        assert_eq!(
            format!("{:?}", Some(&secret)),
            "Some(SecretString(<redacted>))"
        );
        assert_eq!(
            secret.expose(),
            "eyJhbGciOi.token.sig",
            "expose gives the secret back"
        );
    }
}
