//! Where a reporter found a leaked key.
use crate::ParseError;
use serde::{Deserialize, Serialize};

/// Longest source accepted, in characters.
pub const MAX_SOURCE_CHARS: usize = 1024;

/// Free text (a URL, a repository, a paste site), 1–1024 characters, prose characters only
/// ([`crate::characters::check_free_text`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExposureSource(String);

impl ExposureSource {
    /// Checks length and characters.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        if raw.trim().is_empty() {
            return Err(ParseError::new("source is required and must not be blank"));
        }
        if raw.chars().count() > MAX_SOURCE_CHARS {
            return Err(ParseError::new(format!(
                "source must be at most {MAX_SOURCE_CHARS} characters"
            )));
        }
        crate::characters::check_free_text("source", raw)?;
        Ok(Self(raw.trim().to_owned()))
    }
}

impl AsRef<str> for ExposureSource {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(ExposureSource::parse("https://github.com/o/r/blob/main/.env").is_ok());
        assert!(ExposureSource::parse(&"s".repeat(1024)).is_ok());
        assert!(ExposureSource::parse(&"s".repeat(1025)).is_err());
        assert!(ExposureSource::parse(" ").is_err());
        assert!(ExposureSource::parse("a\u{202E}b").is_err());
    }
}
