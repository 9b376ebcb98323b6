//! The human-readable name of an API key.
use crate::ParseError;
use serde::{Deserialize, Serialize};

/// Longest name accepted, in characters, after trimming.
pub const MAX_NAME_CHARS: usize = 256;

/// A key name: 1–256 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKeyName(String);

impl ApiKeyName {
    /// Trims surrounding whitespace, then checks length and characters.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            return Err(ParseError::new(
                "apiKeyName is required and must not be blank",
            ));
        }
        if chars > MAX_NAME_CHARS {
            return Err(ParseError::new(format!(
                "apiKeyName must be at most {MAX_NAME_CHARS} characters"
            )));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ParseError::new(
                "apiKeyName must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

impl AsRef<str> for ApiKeyName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ApiKeyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_trims() {
        assert_eq!(ApiKeyName::parse("  ci key ").unwrap().as_ref(), "ci key");
        assert!(ApiKeyName::parse(&"é".repeat(256)).is_ok());
        assert!(ApiKeyName::parse("bad/name!").is_ok());
    }

    #[test]
    fn rejects_invalid() {
        let cases = [
            ("", "empty"),
            ("   ", "blank"),
            ("a\u{0}b", "NUL"),
            ("line\nbreak", "newline"),
            ("tab\there", "tab"),
        ];
        for (input, why) in cases {
            assert!(ApiKeyName::parse(input).is_err(), "{why} must be rejected");
        }
        assert!(ApiKeyName::parse(&"x".repeat(257)).is_err(), "257 chars");
    }
}
