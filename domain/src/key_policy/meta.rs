//! Free metadata carried by a key and returned by verification. Not secret: anyone who may verify
//! the key reads it.
use crate::ParseError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest serialized object, in bytes.
pub const MAX_META_BYTES: usize = 4096;

/// A JSON object of at most [`MAX_META_BYTES`] bytes serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyMeta(Map<String, Value>);

impl KeyMeta {
    /// Accepts an object within the size bound.
    pub fn parse(raw: Value) -> Result<Self, ParseError> {
        let Value::Object(map) = raw else {
            return Err(ParseError::new("meta must be a JSON object or null"));
        };
        let bytes = serde_json::to_string(&map).map_or(usize::MAX, |t| t.len());
        if bytes > MAX_META_BYTES {
            return Err(ParseError::new(format!(
                "meta must be at most {MAX_META_BYTES} bytes as JSON ({bytes} given)"
            )));
        }
        Ok(Self(map))
    }

    /// The object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_within_the_bound_only() {
        assert!(KeyMeta::parse(json!({"team": "ci", "n": [1, 2]})).is_ok());
        assert!(KeyMeta::parse(json!({})).is_ok());
        for bad in [
            json!([1]),
            json!("x"),
            json!(3),
            json!({"x": "y".repeat(4096)}),
        ] {
            assert!(KeyMeta::parse(bad).is_err());
        }
        let at_bound = json!({"x": "y".repeat(MAX_META_BYTES - 8)});
        assert_eq!(
            serde_json::to_string(&at_bound).unwrap().len(),
            MAX_META_BYTES
        );
        assert!(KeyMeta::parse(at_bound).is_ok());
    }
}
