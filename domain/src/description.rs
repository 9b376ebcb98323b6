//! The free-text purpose of a key or role.
use crate::ParseError;
use serde::{Deserialize, Serialize};

/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// A description: 1–256 characters, not the reserved word `global`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Description(String);

impl Description {
    /// Checks length; VAMS rejects the word `GLOBAL` in any case, and so do we.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let chars = raw.chars().count();
        if raw.trim().is_empty() {
            return Err(ParseError::new(
                "description is required and must not be blank",
            ));
        }
        if chars > MAX_DESCRIPTION_CHARS {
            return Err(ParseError::new(format!(
                "description must be at most {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        if raw.trim().eq_ignore_ascii_case("global") {
            return Err(ParseError::new(
                "description: GLOBAL is not allowed for this field.",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

impl AsRef<str> for Description {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(Description::parse("deploys").is_ok());
        assert!(Description::parse(&"d".repeat(256)).is_ok());
        assert!(Description::parse(&"d".repeat(257)).is_err());
        assert!(Description::parse("").is_err());
        assert!(Description::parse("  ").is_err());
        assert!(Description::parse("Global").is_err());
    }
}
