//! Key redaction: anything shaped like an API key (`vams_` followed by at least
//! [`MIN_SECRET_CHARS`] characters of the key alphabet) is replaced by [`REDACTED`] before it can
//! reach a log line, an audit record or an error message. Keys are only ever meant to be in the
//! responses that issue them; a key pasted by mistake into a URL, a JSON field or a malformed body
//! must not be written anywhere else.
//!
//! [`crate::telemetry`] applies [`redact`] to every formatted log line; the access log, spans,
//! audit `path` and every JSON error body apply it explicitly as well.
use std::borrow::Cow;

/// What every key starts with (infra's key material and VAMS).
pub use domain::key_format::KEY_PREFIX;

/// Characters after the prefix that make a string key-shaped. Real keys carry 43 (bootstrap), 49
/// (checksummed, base62: a subset of the alphabet below) or 64 (VAMS);
/// shorter runs such as a key name `vams_prod` are not secrets and stay readable.
pub const MIN_SECRET_CHARS: usize = 16;

/// What a key-shaped string becomes.
pub const REDACTED: &str = "vams_[REDACTED]";

/// The URL-safe base64 alphabet keys are drawn from.
fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Byte ranges of the key-shaped strings in `text`, prefix included.
fn key_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(found) = text.get(from..)?.find(KEY_PREFIX) {
            let start = from + found;
            let tail = start + KEY_PREFIX.len();
            let end = tail
                + bytes[tail..]
                    .iter()
                    .take_while(|b| is_key_char(**b))
                    .count();
            from = end;
            if end - tail >= MIN_SECRET_CHARS {
                return Some((start, end));
            }
        }
        None
    })
}

/// Whether `text` holds a key-shaped string.
pub fn contains_key(text: &str) -> bool {
    key_spans(text).next().is_some()
}

/// `text` with every key-shaped string replaced by [`REDACTED`]; borrowed when there is none.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut spans = key_spans(text).peekable();
    if spans.peek().is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in spans {
        out.push_str(&text[copied..start]);
        out.push_str(REDACTED);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shaped_strings_are_redacted_and_nothing_else() {
        let key = format!("vams_{}", "aZ09-_".repeat(8));
        let cases = [
            (
                format!("/auth/api-keys/{key}"),
                "/auth/api-keys/vams_[REDACTED]".to_owned(),
                "in a path",
            ),
            (
                format!("a {key} b {key}"),
                format!("a {REDACTED} b {REDACTED}"),
                "twice",
            ),
            (
                format!("\"{key}\","),
                format!("\"{REDACTED}\","),
                "quoted in JSON",
            ),
            (
                "vams_prod is my key name".to_owned(),
                "vams_prod is my key name".to_owned(),
                "too short to be a key",
            ),
            (
                "no key here".to_owned(),
                "no key here".to_owned(),
                "nothing",
            ),
            ("vams_".to_owned(), "vams_".to_owned(), "prefix only"),
            (
                format!("key={}.", domain::key_format::checksummed(&[3; 32])),
                format!("key={REDACTED}."),
                "the checksummed format",
            ),
            (
                format!("ünï {key}ü"),
                format!("ünï {REDACTED}ü"),
                "next to multi-byte characters",
            ),
        ];
        for (input, want, why) in cases {
            assert_eq!(redact(&input), want, "{why}");
            assert_eq!(contains_key(&input), input != want, "{why}");
        }
    }
}
