//! The roles a key may act with.
use crate::{ParseError, RoleName};
use serde::{Deserialize, Serialize};

/// Most roles one key's scope may name.
pub const MAX_KEY_ROLES: usize = 50;

/// A role scope: 1–[`MAX_KEY_ROLES`] distinct role names, kept sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct KeyRoles(Vec<RoleName>);

impl KeyRoles {
    /// Parses, sorts and de-duplicates a scope; an empty list is refused (`null` means every role).
    pub fn parse<S: AsRef<str>>(raw: impl IntoIterator<Item = S>) -> Result<Self, ParseError> {
        let roles = raw
            .into_iter()
            .map(|r| {
                RoleName::parse(r.as_ref()).map_err(|e| ParseError::new(format!("roles: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        super::distinct_list(
            roles,
            MAX_KEY_ROLES,
            "roles must name at least one role (null: every role of the user)",
            || format!("roles may name at most {MAX_KEY_ROLES} roles"),
        )
        .map(Self)
    }

    /// Whether the scope names `role`.
    pub fn holds(&self, role: &str) -> bool {
        self.0.binary_search_by(|r| r.as_ref().cmp(role)).is_ok()
    }

    /// The roles, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &RoleName> {
        self.0.iter()
    }
}

/// Stored scopes are read as written, without the parse rules (whatever the log holds must load).
impl<'de> Deserialize<'de> for KeyRoles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut roles = Vec::<RoleName>::deserialize(d)?;
        roles.sort();
        roles.dedup();
        Ok(Self(roles))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_sorted_distinct_and_bounded() {
        let scope = KeyRoles::parse(["viewer", "ci", "viewer"]).unwrap();
        let names: Vec<&str> = scope.iter().map(|r| r.as_ref()).collect();
        assert_eq!(names, ["ci", "viewer"]);
        assert!(scope.holds("ci") && !scope.holds("admin"));
        let empty: [&str; 0] = [];
        for (bad, why) in [
            (KeyRoles::parse(empty), "empty"),
            (KeyRoles::parse(["bad/role"]), "invalid name"),
            (
                KeyRoles::parse((0..51).map(|n| format!("r{n}"))),
                "too many",
            ),
        ] {
            assert!(bad.is_err(), "{why} accepted");
        }
        assert!(KeyRoles::parse((0..50).map(|n| format!("r{n}"))).is_ok());
    }
}
