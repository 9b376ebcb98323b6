//! A key's settings on the wire (`roles`, `rateLimit`, `allowedCidrs`, `meta`): one parser for the
//! create and update bodies, and the shape list and get items show them in.
use crate::error::ApiError;
use crate::routes::bad;
use domain::key_policy::{AllowedCidrs, KeyMeta, KeyRoles, RateLimit};
use domain::{KeyPolicy, PolicyUpdate};
use serde::Serialize;
use serde_json::{Map, Value};

/// The four settings as a body sent them: `None` not sent, `Some(Null)` sent as `null`.
#[derive(Debug, Default)]
pub struct SentSettings<'a> {
    pub roles: Option<&'a Value>,
    pub rate_limit: Option<&'a Value>,
    pub allowed_cidrs: Option<&'a Value>,
    pub meta: Option<&'a Value>,
}

impl SentSettings<'_> {
    /// The wire names of the settings sent.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        [
            ("roles", self.roles.is_some()),
            ("rateLimit", self.rate_limit.is_some()),
            ("allowedCidrs", self.allowed_cidrs.is_some()),
            ("meta", self.meta.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, sent)| sent.then_some(name))
    }

    /// What an update does: sent settings set (or, as `null`, clear) theirs.
    pub fn update(&self) -> Result<PolicyUpdate, ApiError> {
        Ok(PolicyUpdate {
            roles: self.roles.map(|v| nullable(v, roles)).transpose()?,
            rate_limit: self
                .rate_limit
                .map(|v| nullable(v, rate_limit))
                .transpose()?,
            allowed_cidrs: self
                .allowed_cidrs
                .map(|v| nullable(v, allowed_cidrs))
                .transpose()?,
            meta: self.meta.map(|v| nullable(v, meta)).transpose()?,
        })
    }

    /// What a create sets (`null` and absent alike: not set).
    pub fn policy(&self) -> Result<KeyPolicy, ApiError> {
        Ok(KeyPolicy::default().updated(&self.update()?))
    }
}

fn nullable<T>(
    value: &Value,
    parse: fn(&Value) -> Result<T, ApiError>,
) -> Result<Option<T>, ApiError> {
    match value {
        Value::Null => Ok(None),
        other => parse(other).map(Some),
    }
}

/// The strings of an array field, or a 400 naming it.
fn strings<'a>(value: &'a Value, field: &str) -> Result<Vec<&'a str>, ApiError> {
    let not_strings =
        || ApiError::BadRequest(format!("{field} must be an array of strings or null"));
    value
        .as_array()
        .ok_or_else(not_strings)?
        .iter()
        .map(|v| v.as_str().ok_or_else(not_strings))
        .collect()
}

fn roles(value: &Value) -> Result<KeyRoles, ApiError> {
    KeyRoles::parse(strings(value, "roles")?).map_err(bad)
}

fn allowed_cidrs(value: &Value) -> Result<AllowedCidrs, ApiError> {
    AllowedCidrs::parse(strings(value, "allowedCidrs")?).map_err(bad)
}

fn meta(value: &Value) -> Result<KeyMeta, ApiError> {
    KeyMeta::parse(value.clone()).map_err(bad)
}

fn rate_limit(value: &Value) -> Result<RateLimit, ApiError> {
    let shape = || {
        ApiError::BadRequest(r#"rateLimit must be {"limit": N, "periodSeconds": S} or null"#.into())
    };
    let fields = value.as_object().ok_or_else(shape)?;
    if fields.keys().any(|k| k != "limit" && k != "periodSeconds") {
        return Err(shape());
    }
    let number = |name: &str| fields.get(name).map(|v| v.as_u64().unwrap_or(0));
    let (Some(limit), Some(period)) = (number("limit"), number("periodSeconds")) else {
        return Err(shape());
    };
    RateLimit::new(limit, period).map_err(bad)
}

/// A rate limit as items show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitItem {
    /// Requests admitted per window (1–1 000 000).
    limit: u32,
    /// The window's length in seconds (1–86 400); windows start at multiples of it since the epoch.
    period_seconds: u32,
}

/// A key's settings as list and get items show them: each only when set.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsItem {
    /// The key acts with these of its user's roles only (sorted). Absent: all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<String>>,
    /// Absent: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<RateLimitItem>,
    /// Networks the key authenticates from (normalized CIDRs). Absent: anywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_cidrs: Option<Vec<String>>,
    /// Free metadata, returned by `/auth/verify`; not secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    meta: Option<Map<String, Value>>,
}

impl From<&KeyPolicy> for SettingsItem {
    fn from(p: &KeyPolicy) -> Self {
        Self {
            roles: p
                .roles
                .as_ref()
                .map(|r| r.iter().map(ToString::to_string).collect()),
            rate_limit: p.rate_limit.map(|r| RateLimitItem {
                limit: r.limit(),
                period_seconds: r.period_seconds(),
            }),
            allowed_cidrs: p
                .allowed_cidrs
                .as_ref()
                .map(|c| c.iter().map(ToString::to_string).collect()),
            meta: p.meta.as_ref().map(|m| m.as_map().clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sent(body: &Value) -> SentSettings<'_> {
        SentSettings {
            roles: body.get("roles"),
            rate_limit: body.get("rateLimit"),
            allowed_cidrs: body.get("allowedCidrs"),
            meta: body.get("meta"),
        }
    }

    #[test]
    fn bad_settings_are_refused_with_a_message_naming_the_field() {
        let cases = [
            (json!({"roles": "admin"}), "roles"),
            (json!({"roles": [1]}), "roles"),
            (json!({"roles": []}), "roles"),
            (json!({"rateLimit": 10}), "rateLimit"),
            (json!({"rateLimit": {"limit": 10}}), "rateLimit"),
            (
                json!({"rateLimit": {"limit": 0, "periodSeconds": 60}}),
                "rateLimit.limit",
            ),
            (
                json!({"rateLimit": {"limit": 1.5, "periodSeconds": 60}}),
                "rateLimit.limit",
            ),
            (
                json!({"rateLimit": {"limit": 5, "periodSeconds": 86401}}),
                "rateLimit.periodSeconds",
            ),
            (
                json!({"rateLimit": {"limit": 5, "periodSeconds": 60, "x": 1}}),
                "rateLimit",
            ),
            (json!({"allowedCidrs": ["10.0.0.0/33"]}), "allowedCidrs"),
            (json!({"allowedCidrs": []}), "allowedCidrs"),
            (json!({"meta": [1]}), "meta"),
            (json!({"meta": {"x": "y".repeat(5000)}}), "meta"),
        ];
        for (body, field) in cases {
            match sent(&body).update() {
                Err(ApiError::BadRequest(message)) => {
                    assert!(message.contains(field), "{body}: {message}")
                }
                other => panic!("{body} gave {other:?}"),
            }
        }
    }

    #[test]
    fn null_clears_on_update_and_means_unset_on_create() {
        let body = json!({"roles": null, "rateLimit": {"limit": 5, "periodSeconds": 60}});
        let update = sent(&body).update().unwrap();
        assert_eq!(update.roles, Some(None));
        assert_eq!(
            update.rate_limit,
            Some(Some(RateLimit::new(5, 60).unwrap()))
        );
        assert_eq!(update.meta, None);
        let policy = sent(&body).policy().unwrap();
        assert_eq!(policy.roles, None);
        assert!(policy.rate_limit.is_some());
        assert_eq!(
            sent(&body).names().collect::<Vec<_>>(),
            ["roles", "rateLimit"]
        );
    }

    #[test]
    fn items_show_only_what_is_set() {
        let none = serde_json::to_value(SettingsItem::from(&KeyPolicy::default())).unwrap();
        assert_eq!(none, json!({}));
        let body = json!({"allowedCidrs": ["10.1.2.3/8"], "meta": {"team": "ci"}});
        let shown = serde_json::to_value(SettingsItem::from(&sent(&body).policy().unwrap()));
        assert_eq!(
            shown.unwrap(),
            json!({"allowedCidrs": ["10.0.0.0/8"], "meta": {"team": "ci"}})
        );
    }
}
