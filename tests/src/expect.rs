//! What an error answer's message must say, for table-driven invalid-input tests.
use crate::call::Reply;

/// The message a refused request must carry.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Exactly this text (the spec or VAMS gives it).
    Exact(String),
    /// Names this field (case-insensitively), so the caller knows what to fix.
    Mentions(&'static str),
    /// Any non-empty message (the spec leaves the wording open, e.g. JSON type errors).
    Any,
}

impl Expect {
    /// `Exact` from anything string-like.
    pub fn exact(message: impl Into<String>) -> Self {
        Self::Exact(message.into())
    }

    /// Asserts `reply` is a JSON error with `status` and this message; `why` names the case.
    #[track_caller]
    pub fn check(&self, reply: &Reply, status: u16, why: &str) {
        assert_eq!(
            reply.status, status,
            "case {why:?}: {} answered {} {}",
            reply.what, reply.status, reply.text
        );
        let message = reply.assert_json_error(status);
        match self {
            Self::Exact(expected) => {
                assert_eq!(&message, expected, "case {why:?}: wrong message")
            }
            Self::Mentions(field) => assert!(
                message.to_lowercase().contains(&field.to_lowercase()),
                "case {why:?}: message {message:?} does not name {field:?}"
            ),
            Self::Any => {}
        }
    }
}
