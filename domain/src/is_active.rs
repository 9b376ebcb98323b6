//! The active flag as the wire carries it.
use crate::ParseError;

/// `isActive` arrives as a JSON boolean or as the strings `"true"`/`"false"` (what vamscli sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsActive(bool);

impl IsActive {
    /// Anything other than a boolean or the two exact strings is refused (VAMS silently disabled the key).
    pub fn parse(raw: &serde_json::Value) -> Result<Self, ParseError> {
        match raw {
            serde_json::Value::Bool(b) => Ok(Self(*b)),
            serde_json::Value::String(s) if s == "true" => Ok(Self(true)),
            serde_json::Value::String(s) if s == "false" => Ok(Self(false)),
            _ => Err(ParseError::new(
                "isActive must be true or false (boolean or the strings \"true\"/\"false\")",
            )),
        }
    }

    /// The flag.
    pub fn get(self) -> bool {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse() {
        assert!(IsActive::parse(&json!(true)).unwrap().get());
        assert!(!IsActive::parse(&json!("false")).unwrap().get());
        for bad in [
            json!("True"),
            json!(1),
            json!(null),
            json!("yes"),
            json!([]),
        ] {
            assert!(IsActive::parse(&bad).is_err(), "{bad}");
        }
    }
}
