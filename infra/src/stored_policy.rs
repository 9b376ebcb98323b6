//! A key's settings as the lookup tables store them (SQLite's `policy` column, DynamoDB's `Policy`
//! attribute): JSON, and nothing at all for a key without settings, so such rows stay as they were.
use domain::KeyPolicy;

/// The stored form; `None` for a key without settings.
pub fn write(policy: &KeyPolicy) -> Option<String> {
    if policy.is_empty() {
        return None;
    }
    serde_json::to_string(policy).ok()
}

/// Reads a stored form back.
pub fn read(text: &str) -> Result<KeyPolicy, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::key_policy::RateLimit;

    #[test]
    fn empty_settings_store_nothing_and_others_round_trip() {
        assert_eq!(write(&KeyPolicy::default()), None);
        let policy = KeyPolicy {
            rate_limit: Some(RateLimit::new(3, 60).unwrap()),
            ..KeyPolicy::default()
        };
        let text = write(&policy).unwrap();
        assert_eq!(read(&text).unwrap(), policy);
    }
}
