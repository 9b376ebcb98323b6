//! The name of a role.
use crate::ParseError;
use serde::{Deserialize, Serialize};

/// A role name matching VAMS's `^[a-zA-Z0-9\-._\s]{1,256}$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleName(String);

impl RoleName {
    /// Letters, digits, `-`, `.`, `_` and whitespace (not control characters), 1–256 long.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let len = raw.chars().count();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ' ');
        if !(1..=256).contains(&len) || !raw.chars().all(allowed) || raw.trim().is_empty() {
            return Err(ParseError::new(
                r"roleName is invalid. Must follow the regexp ^[a-zA-Z0-9\-._\s]{1,256}$",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

impl AsRef<str> for RoleName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RoleName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert!(RoleName::parse("admin").is_ok());
        assert!(RoleName::parse("read only.v2_x-y").is_ok());
        let bad_names = [
            "",
            " ",
            "a/b",
            "ä",
            "a\nb",
            "a\tb",
            "reader\u{200b}",
            "read\u{202e}er",
            "\u{feff}reader",
            "reader\u{1b}",
        ];
        for bad in bad_names {
            assert!(RoleName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
