//! The shape of a plaintext key: the checksummed format apikeyd issues and the VAMS format it still
//! accepts. Pure text rules, shared by key generation (`infra`) and verification (`projections`).
//!
//! A checksummed key is `vams_` + [`RANDOM_CHARS`] base62 characters (256 random bits) +
//! [`CHECKSUM_CHARS`] base62 characters of the CRC32 of those random characters, as GitHub's tokens
//! are. Only `[0-9A-Za-z]` follows the prefix, so the whole key is one word, matched by
//! [`CHECKSUMMED_PATTERN`]. A mistyped or truncated key fails its checksum and is refused without any
//! store look-up. VAMS keys (`vams_` + URL-safe base64) have no checksum and keep verifying.

/// Every key starts with this.
pub const KEY_PREFIX: &str = "vams_";

/// Base62 characters of the random part: 43 hold 256 bits (62^43 > 2^256).
pub const RANDOM_CHARS: usize = 43;

/// Base62 characters of the checksum: 6 hold a CRC32 (62^6 > 2^32).
pub const CHECKSUM_CHARS: usize = 6;

/// The regular expression every checksummed key matches (published in the README).
pub const CHECKSUMMED_PATTERN: &str = "^vams_[0-9A-Za-z]{49}$";

/// Random bytes behind one checksummed key.
pub const RANDOM_BYTES: usize = 32;

/// The base62 alphabet, in value order.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Which format a presented key has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyShape {
    /// The checksummed format, checksum correct.
    Checksummed,
    /// The checksummed format's length and alphabet but a wrong checksum: a mistyped or forged key.
    BadChecksum,
    /// Anything else after the prefix (VAMS keys, imported keys, bootstrap keys).
    Legacy,
}

impl KeyShape {
    /// The shape of the part after `vams_` (the caller checked the prefix and the alphabet).
    pub fn of_secret(secret: &str) -> Self {
        let bytes = secret.as_bytes();
        if bytes.len() != RANDOM_CHARS + CHECKSUM_CHARS
            || !bytes.iter().all(u8::is_ascii_alphanumeric)
        {
            return Self::Legacy;
        }
        let (random, sum) = bytes.split_at(RANDOM_CHARS);
        // Decoding the 6 characters and comparing numbers allocates nothing: this runs on every
        // presented key of this shape, before it is hashed.
        if decode62(sum) == Some(u64::from(crc32(random))) {
            Self::Checksummed
        } else {
            Self::BadChecksum
        }
    }
}

/// The number base62 `digits` spell (`None` for a character outside the alphabet).
fn decode62(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, &c| {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return None,
        };
        Some(n * 62 + u64::from(digit))
    })
}

/// A checksummed key (without any secret wrapper: the caller wraps it) from 32 random bytes.
pub fn checksummed(random: &[u8; RANDOM_BYTES]) -> String {
    let digits = base62::<RANDOM_CHARS>(random);
    let sum = checksum(&digits);
    let mut key = String::with_capacity(KEY_PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS);
    key.push_str(KEY_PREFIX);
    key.extend(digits.iter().chain(sum.iter()).map(|&b| b as char));
    key
}

/// The 6 base62 characters of the CRC32 of `random`.
fn checksum(random: &[u8]) -> [u8; CHECKSUM_CHARS] {
    base62::<CHECKSUM_CHARS>(&crc32(random).to_be_bytes())
}

/// `bytes` as a big-endian number in exactly `N` base62 digits (leading zeros kept, so the length
/// never varies). `N` must hold the number.
fn base62<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut number = bytes.to_vec();
    let mut digits = [ALPHABET[0]; N];
    for digit in digits.iter_mut().rev() {
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 62) as u8;
            remainder = value % 62;
        }
        *digit = ALPHABET[remainder as usize];
    }
    digits
}

/// CRC-32 (IEEE 802.3, as zlib and GitHub's token checksums use), hardware-accelerated where the
/// CPU has it: it runs on every presented key of the checksummed shape.
fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_reference_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn decoding_undoes_encoding() {
        for n in [0u32, 1, 61, 62, 12_345_678, u32::MAX] {
            assert_eq!(decode62(&base62::<6>(&n.to_be_bytes())), Some(u64::from(n)));
        }
        assert_eq!(decode62(b"00-000"), None);
    }

    #[test]
    fn base62_is_fixed_width_and_ordered() {
        assert_eq!(&base62::<6>(&0u32.to_be_bytes()), b"000000");
        assert_eq!(&base62::<6>(&61u32.to_be_bytes()), b"00000z");
        assert_eq!(&base62::<6>(&62u32.to_be_bytes()), b"000010");
        assert_eq!(&base62::<6>(&u32::MAX.to_be_bytes()), b"4gfFC3");
        assert_eq!(
            base62::<RANDOM_CHARS>(&[0xFF; 32])[0],
            b'y',
            "2^256 - 1 fits 43 digits"
        );
    }

    #[test]
    fn a_generated_key_checks_and_any_changed_character_does_not() {
        let key = checksummed(&[7; RANDOM_BYTES]);
        assert_eq!(key.len(), KEY_PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS);
        let secret = &key[KEY_PREFIX.len()..];
        assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(KeyShape::of_secret(secret), KeyShape::Checksummed);
        for at in [0, 20, RANDOM_CHARS - 1, RANDOM_CHARS, secret.len() - 1] {
            let mut bytes = secret.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(bytes).unwrap();
            assert_eq!(
                KeyShape::of_secret(&changed),
                KeyShape::BadChecksum,
                "at {at}"
            );
        }
    }

    #[test]
    fn vams_and_bootstrap_keys_are_legacy() {
        let cases = [
            ("A".repeat(64), "VAMS token_urlsafe(48)"),
            ("A-_b".repeat(16), "URL-safe characters"),
            ("x".repeat(43), "bootstrap length"),
            (format!("{}-", "a".repeat(48)), "49 characters with a dash"),
        ];
        for (secret, why) in cases {
            assert_eq!(KeyShape::of_secret(&secret), KeyShape::Legacy, "{why}");
        }
    }
}
