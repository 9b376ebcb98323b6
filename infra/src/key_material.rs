//! New plaintext keys.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::KeyHash;
use secrecy::{ExposeSecret, SecretString};

/// Random bytes per key: 384 bits, as VAMS's `token_urlsafe(48)`.
const KEY_BYTES: usize = 48;

/// A freshly generated key: the plaintext (shown once) and its hash (stored).
pub struct NewKey {
    /// `vams_` + 64 URL-safe characters. Redacted in `Debug`.
    pub plaintext: SecretString,
    /// What the store keeps.
    pub hash: KeyHash,
}

/// The OS random source failed; no key can be issued safely.
#[derive(Debug, thiserror::Error)]
#[error("OS random number generator unavailable: {0}")]
pub struct RandomUnavailable(String);

/// Draws a new key from the OS CSPRNG.
pub fn generate() -> Result<NewKey, RandomUnavailable> {
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| RandomUnavailable(e.to_string()))?;
    let plaintext = SecretString::from(format!("vams_{}", URL_SAFE_NO_PAD.encode(bytes)));
    let hash = KeyHash::of(plaintext.expose_secret());
    Ok(NewKey { plaintext, hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_are_prefixed_url_safe_and_distinct() {
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let key = generate().unwrap();
            let text = key.plaintext.expose_secret();
            assert!(text.starts_with("vams_"));
            assert_eq!(text.len(), 5 + 64);
            assert!(text[5..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert_eq!(key.hash, KeyHash::of(text));
            assert!(seen.insert(text.to_owned()), "duplicate key");
        }
        assert!(!format!("{:?}", generate().unwrap().plaintext).contains("vams_"));
    }
}
