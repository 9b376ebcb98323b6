//! The id of a user an API key acts as.
use crate::ParseError;
use serde::{Deserialize, Serialize};

/// A user id matching VAMS's `^[\w\-\.\+\@]{3,256}$` and not the reserved word `global`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

/// The message VAMS gives for a malformed user id.
pub const INVALID_USER_ID: &str =
    r"userId is invalid. Must follow the regexp ^[\w\-\.\+\@]{3,256}$";

impl UserId {
    /// `\w` is Python's Unicode word class: letters, digits and `_`.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let len = raw.chars().count();
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '@');
        if !(3..=256).contains(&len) || !raw.chars().all(allowed) {
            return Err(ParseError::new(INVALID_USER_ID));
        }
        if raw.eq_ignore_ascii_case("global") {
            return Err(ParseError::new(
                "userId: GLOBAL is not allowed for this field.",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Wraps a user id read back from a view row, without checking it again: input is checked at
    /// the edge, and whatever the store holds must load even if the rules have since tightened.
    pub fn from_stored(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }
}

impl AsRef<str> for UserId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_vams_ids() {
        for ok in ["ci-bot@example.com", "abc", "user_1.x+y", "ünïcode"] {
            assert!(UserId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_invalid() {
        let cases = [
            ("ab", "too short"),
            ("has space", "space"),
            ("a/b/c", "slash"),
            ("GLOBAL", "reserved"),
            ("", "empty"),
            ("bob\u{200b}", "zero-width space"),
            ("bo\u{200d}b", "zero-width joiner"),
            ("\u{feff}bob", "BOM"),
            ("bob\u{202e}moc", "right-to-left override"),
            ("bob\u{2066}", "isolate"),
            ("bob\u{ad}x", "soft hyphen"),
            ("bob\u{1b}x", "ESC"),
            ("bob\u{0}", "NUL"),
        ];
        for (input, why) in cases {
            let error = UserId::parse(input).expect_err(why);
            assert!(error.0.starts_with("userId"), "{why}: {error}");
        }
        assert!(UserId::parse(&"u".repeat(257)).is_err(), "too long");
    }
}
