//! VAMS items as typed records. Each value goes through the domain's own parser (names, user ids,
//! descriptions, hashes, expiries), so an imported key is held to what apikeyd accepts; an item that
//! fails is an [`ItemError`] naming the item and the field, and is not imported.
pub use crate::dynamo::item::Item;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use domain::role::RoleDefinition;
use domain::{ApiKeyName, Description, Expiration, KeyHash, RecordedExpiry, RoleName, UserId};
use uuid::Uuid;

/// An item that cannot be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{table} item {item}: {reason}")]
pub struct ItemError {
    /// The table it was read from.
    pub table: String,
    /// Its key, e.g. `apiKeyId=…`.
    pub item: String,
    /// What is wrong with it.
    pub reason: String,
}

/// An ApiKeyStorageTable item.
#[derive(Debug, Clone, PartialEq)]
pub struct VamsApiKey {
    pub api_key_id: Uuid,
    pub name: ApiKeyName,
    pub key_hash: KeyHash,
    pub description: Description,
    pub user_id: UserId,
    /// `createdBy` as VAMS wrote it (a user id or `unknown`).
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// `updatedAt`, or `createdAt` when absent.
    pub updated_at: DateTime<Utc>,
    /// The expiry as apikeyd reads it, with the form the text had.
    pub expires_at: Option<RecordedExpiry>,
    /// The stored text, when there was one (for the report).
    pub expires_at_raw: Option<String>,
    /// Active only when `isActive` is exactly the string `"true"`, as VAMS's authorizer decides.
    pub is_active: bool,
    /// The stored `isActive` when it was neither `"true"` nor `"false"` (for the report).
    pub unusual_is_active: Option<String>,
}

/// A RolesStorageTable item.
#[derive(Debug, Clone, PartialEq)]
pub struct VamsRole {
    /// `id`, or a fresh one when VAMS has none.
    pub id: Uuid,
    pub definition: RoleDefinition,
    /// `createdOn` (naive UTC in VAMS), or the Unix epoch when absent.
    pub created_on: DateTime<Utc>,
}

/// A UserRolesStorageTable item: one role of one user.
#[derive(Debug, Clone, PartialEq)]
pub struct VamsUserRole {
    pub user_id: UserId,
    pub role_name: RoleName,
    /// `createdOn` (naive UTC in VAMS), or the Unix epoch when absent.
    pub created_on: DateTime<Utc>,
}

/// Reads one item's attributes, naming the item in every error.
struct Fields<'a> {
    item: &'a Item,
    table: &'a str,
    key: String,
}

impl<'a> Fields<'a> {
    fn new(item: &'a Item, table: &'a str, key_names: &[&str]) -> Self {
        let key = key_names
            .iter()
            .map(|k| format!("{k}={}", shown(item.get(*k))))
            .collect::<Vec<_>>()
            .join(",");
        Self { item, table, key }
    }

    fn error(&self, reason: impl Into<String>) -> ItemError {
        ItemError {
            table: self.table.to_owned(),
            item: self.key.clone(),
            reason: reason.into(),
        }
    }

    /// A string attribute that must be present.
    fn text(&self, name: &str) -> Result<&'a str, ItemError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Err(self.error(format!("has no {name}"))),
            Some(AttributeValue::S(s)) => Ok(s),
            Some(_) => Err(self.error(format!("{name} is not a string"))),
        }
    }

    /// A string attribute that may be absent or null.
    fn optional(&self, name: &str) -> Result<Option<&'a str>, ItemError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(format!("{name} is not a string"))),
        }
    }

    fn parsed<T, E: std::fmt::Display>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, ItemError> {
        let raw = self.text(name)?;
        parse(raw).map_err(|e| self.error(format!("{name}: {e}")))
    }

    fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ItemError> {
        self.optional(name)?
            .map(|raw| {
                projections::forensics::parse_instant(raw)
                    .ok_or_else(|| self.error(format!("{name} '{raw}' is not a date-time")))
            })
            .transpose()
    }
}

/// An attribute's value for an error message (key attributes only: never a hash or a secret).
fn shown(value: Option<&AttributeValue>) -> String {
    match value {
        Some(AttributeValue::S(s)) => s.chars().take(80).collect(),
        Some(other) => format!("{other:?}"),
        None => "<missing>".to_owned(),
    }
}

impl VamsApiKey {
    /// Reads an ApiKeyStorageTable item.
    pub fn read(item: &Item, table: &str) -> Result<Self, ItemError> {
        let f = Fields::new(item, table, &["apiKeyId"]);
        let created_at = f
            .time("createdAt")?
            .ok_or_else(|| f.error("has no createdAt"))?;
        let raw_expiry = f.optional("expiresAt")?.filter(|e| !e.trim().is_empty());
        let expires_at = raw_expiry
            .map(|raw| Expiration::parse_recorded(raw).map_err(|e| f.error(e.to_string())))
            .transpose()?
            .flatten();
        let is_active_raw = match item.get("isActive") {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            Some(AttributeValue::Bool(b)) => Some(format!("BOOL {b}")),
            Some(other) => Some(format!("{other:?}")),
            None => None,
        };
        Ok(Self {
            api_key_id: f.parsed("apiKeyId", Uuid::parse_str)?,
            name: f.parsed("apiKeyName", ApiKeyName::parse)?,
            key_hash: f.parsed("apiKeyHash", KeyHash::from_hex)?,
            description: f.parsed("description", Description::parse)?,
            user_id: f.parsed("userId", UserId::parse)?,
            created_by: f.optional("createdBy")?.unwrap_or("unknown").to_owned(),
            created_at,
            updated_at: f.time("updatedAt")?.unwrap_or(created_at),
            expires_at,
            expires_at_raw: raw_expiry.map(str::to_owned),
            is_active: matches!(item.get("isActive"), Some(AttributeValue::S(s)) if s == "true"),
            unusual_is_active: is_active_raw.filter(|v| v != "true" && v != "false"),
        })
    }
}

impl VamsRole {
    /// Reads a RolesStorageTable item.
    pub fn read(item: &Item, table: &str) -> Result<Self, ItemError> {
        let f = Fields::new(item, table, &["roleName"]);
        let mfa_required = match item.get("mfaRequired") {
            None | Some(AttributeValue::Null(_)) => false,
            Some(AttributeValue::Bool(b)) => *b,
            Some(AttributeValue::S(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(AttributeValue::S(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(f.error("mfaRequired is not a boolean")),
        };
        Ok(Self {
            id: f
                .optional("id")?
                .and_then(|id| Uuid::parse_str(id).ok())
                .unwrap_or_else(Uuid::new_v4),
            definition: RoleDefinition {
                role_name: f.parsed("roleName", RoleName::parse)?,
                description: f.parsed("description", Description::parse)?,
                source: f.optional("source")?.map(str::to_owned),
                source_identifier: f.optional("sourceIdentifier")?.map(str::to_owned),
                mfa_required,
            },
            created_on: f.time("createdOn")?.unwrap_or(DateTime::UNIX_EPOCH),
        })
    }
}

impl VamsUserRole {
    /// Reads a UserRolesStorageTable item.
    pub fn read(item: &Item, table: &str) -> Result<Self, ItemError> {
        let f = Fields::new(item, table, &["userId", "roleName"]);
        Ok(Self {
            user_id: f.parsed("userId", UserId::parse)?,
            role_name: f.parsed("roleName", RoleName::parse)?,
            created_on: f.time("createdOn")?.unwrap_or(DateTime::UNIX_EPOCH),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::item::s;
    use domain::ExpiryForm;

    fn key_item(extra: &[(&str, AttributeValue)]) -> Item {
        let mut item = Item::from([
            ("apiKeyId".into(), s("6f1c2d3e-1111-4222-8333-944455556666")),
            ("apiKeyName".into(), s("ci")),
            ("apiKeyHash".into(), s("ab".repeat(32))),
            ("description".into(), s("deploys")),
            ("userId".into(), s("ci-bot@example.com")),
            ("createdBy".into(), s("admin")),
            ("createdAt".into(), s("2026-04-23T10:11:12.345678+00:00")),
            ("updatedAt".into(), s("2026-04-24T10:11:12+00:00")),
            ("expiresAt".into(), s("")),
            ("isActive".into(), s("true")),
        ]);
        for (k, v) in extra {
            item.insert((*k).to_owned(), v.clone());
        }
        item
    }

    #[test]
    fn reads_a_key_as_vams_wrote_it() {
        let key = VamsApiKey::read(&key_item(&[]), "T").unwrap();
        assert!(key.is_active);
        assert_eq!(key.expires_at, None);
        assert_eq!(key.updated_at.to_rfc3339(), "2026-04-24T10:11:12+00:00");
        let dated = VamsApiKey::read(&key_item(&[("expiresAt", s("2027-01-31"))]), "T").unwrap();
        assert_eq!(dated.expires_at.unwrap().form, ExpiryForm::DateOnly);
    }

    #[test]
    fn only_the_string_true_is_active() {
        for (value, unusual) in [
            (s("false"), None),
            (s("True"), Some("True")),
            (AttributeValue::Bool(true), Some("BOOL true")),
        ] {
            let key = VamsApiKey::read(&key_item(&[("isActive", value)]), "T").unwrap();
            assert!(!key.is_active);
            assert_eq!(key.unusual_is_active.as_deref(), unusual);
        }
    }

    #[test]
    fn broken_items_name_the_item_and_the_field() {
        let cases = [
            (
                "apiKeyHash",
                AttributeValue::Null(true),
                "has no apiKeyHash",
            ),
            (
                "apiKeyHash",
                s("xyz"),
                "apiKeyHash: key hash must be 64 hex characters",
            ),
            ("apiKeyId", s("nope"), "apiKeyId: "),
            (
                "expiresAt",
                s("soon"),
                "expiresAt 'soon' is not a valid date",
            ),
            (
                "createdAt",
                AttributeValue::N("1".into()),
                "createdAt is not a string",
            ),
        ];
        for (field, value, reason) in cases {
            let error = VamsApiKey::read(&key_item(&[(field, value)]), "T").unwrap_err();
            assert!(error.reason.starts_with(reason), "{field}: {error}");
            assert!(error.to_string().starts_with("T item apiKeyId="), "{error}");
        }
    }
}
