//! The human-readable name of an API key.
use crate::ParseError;
use serde::{Deserialize, Serialize};

/// Longest name accepted, in characters, after trimming.
pub const MAX_NAME_CHARS: usize = 256;

/// A key name: 1–256 characters after trimming, none of them control or invisible formatting
/// characters ([`crate::characters::is_hidden`]).
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
        crate::characters::check_name("apiKeyName", trimmed)?;
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
        assert!(ApiKeyName::parse("déploiement 日本 😀 \u{a0}x").is_ok());
    }

    #[test]
    fn rejects_invalid() {
        let cases = [
            ("", "empty"),
            ("   ", "blank"),
            ("a\u{0}b", "NUL"),
            ("line\nbreak", "newline"),
            ("tab\there", "tab"),
            ("bob-key\u{200b}", "zero-width space"),
            ("bob\u{200d}key", "zero-width joiner"),
            ("\u{feff}bob-key", "BOM"),
            ("bob\u{ad}key", "soft hyphen"),
            ("key\u{202e}yek", "right-to-left override"),
            ("key\u{2066}x\u{2069}", "isolate"),
            ("esc\u{1b}[31m", "ESC"),
            ("c1\u{9b}", "C1 control"),
            ("two\u{2028}lines", "line separator"),
        ];
        for (input, why) in cases {
            let error = ApiKeyName::parse(input).expect_err(why);
            assert!(error.0.starts_with("apiKeyName "), "{why}: {error}");
        }
        assert!(ApiKeyName::parse(&"x".repeat(257)).is_err(), "257 chars");
    }
}
