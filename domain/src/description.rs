//! The free-text purpose of a key or role.
use crate::ParseError;
use serde::{Deserialize, Serialize};

/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// A description: 1–256 characters, not the reserved word `global`, without control characters other
/// than newline and tab and without bidi controls ([`crate::characters::check_free_text`]).
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
        crate::characters::check_free_text("description", raw)?;
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

    #[test]
    fn prose_characters() {
        for ok in [
            "two\nlines",
            "a\ttab",
            "日本語 😀 👩\u{200d}💻",
            "می\u{200c}خواهم",
            "soft\u{ad}hyphen",
        ] {
            assert!(Description::parse(ok).is_ok(), "{ok:?}");
        }
        let cases = [
            ("a\u{0}b", "NUL"),
            ("\u{1b}[2Jcleared", "ESC"),
            ("bell\u{7}", "BEL"),
            ("carriage\rreturn", "CR"),
            ("del\u{7f}", "DEL"),
            ("c1\u{9b}31m", "C1 CSI"),
            ("abc\u{202e}fed", "right-to-left override"),
            ("x\u{2067}y\u{2069}", "isolate"),
        ];
        for (input, why) in cases {
            let error = Description::parse(input).expect_err(why);
            assert!(
                error.0.starts_with("description must not contain"),
                "{why}: {error}"
            );
        }
    }
}
