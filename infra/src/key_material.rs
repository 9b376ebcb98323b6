//! New plaintext keys, in the checksummed format ([`domain::key_format`]).
use domain::key_format::{self, RANDOM_BYTES};
use domain::KeyHash;
use secrecy::{ExposeSecret, SecretString};

/// A freshly generated key: the plaintext (shown once) and its hash (stored).
pub struct NewKey {
    /// `vams_` + 43 base62 characters (256 random bits) + a 6-character checksum. Redacted in
    /// `Debug`.
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
    let mut bytes = [0u8; RANDOM_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| RandomUnavailable(e.to_string()))?;
    let plaintext = SecretString::from(key_format::checksummed(&bytes));
    let hash = KeyHash::of(plaintext.expose_secret());
    Ok(NewKey { plaintext, hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::key_format::{KeyShape, CHECKSUMMED_PATTERN, KEY_PREFIX};
    use std::collections::HashSet;

    #[test]
    fn keys_are_checksummed_base62_and_distinct() {
        assert_eq!(CHECKSUMMED_PATTERN, "^vams_[0-9A-Za-z]{49}$");
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let key = generate().unwrap();
            let text = key.plaintext.expose_secret();
            assert!(text.starts_with(KEY_PREFIX));
            assert_eq!(text.len(), 5 + 49);
            assert!(text[5..].bytes().all(|b| b.is_ascii_alphanumeric()));
            assert_eq!(KeyShape::of_secret(&text[5..]), KeyShape::Checksummed);
            assert_eq!(key.hash, KeyHash::of(text));
            assert!(seen.insert(text.to_owned()), "duplicate key");
        }
        assert!(!format!("{:?}", generate().unwrap().plaintext).contains("vams_"));
    }
}
