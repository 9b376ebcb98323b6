//! The SHA-256 of a plaintext key: the only form in which a key is ever stored.
use crate::ParseError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The value of each hex digit, `0xFF` for every other byte.
const NIBBLES: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut n = 0;
    while n < 10 {
        table[b'0' as usize + n] = n as u8;
        n += 1;
    }
    let mut n = 0;
    while n < 6 {
        table[b'a' as usize + n] = 10 + n as u8;
        table[b'A' as usize + n] = 10 + n as u8;
        n += 1;
    }
    table
};

/// SHA-256 of the full plaintext key (`vams_…`), as in VAMS. Stored as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyHash([u8; 32]);

impl KeyHash {
    /// Hashes a presented key. Never store or log the input.
    pub fn of(plaintext: &str) -> Self {
        Self(Sha256::digest(plaintext.as_bytes()).into())
    }

    /// Reads a stored hex hash back (either case). A table look-up per digit: a start reads a
    /// million of these.
    pub fn from_hex(hex_str: &str) -> Result<Self, ParseError> {
        let invalid = || ParseError::new("key hash must be 64 hex characters");
        let digits: &[u8; 64] = hex_str.as_bytes().try_into().map_err(|_| invalid())?;
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let (high, low) = (NIBBLES[pair[0] as usize], NIBBLES[pair[1] as usize]);
            if (high | low) & 0xF0 != 0 {
                return Err(invalid());
            }
            *byte = high << 4 | low;
        }
        Ok(Self(bytes))
    }

    /// Wraps a raw digest read back from a store.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw digest.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, as stored.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 8 hex characters: enough to correlate in logs, useless to an attacker.
    pub fn prefix(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

impl std::fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyHash({}…)", self.prefix())
    }
}

impl Serialize for KeyHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for KeyHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_matches_sha256() {
        let h = KeyHash::of("abc");
        assert_eq!(
            h.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(KeyHash::from_hex(&h.to_hex()).unwrap(), h);
        assert!(KeyHash::from_hex("zz").is_err());
    }

    #[test]
    fn from_hex_reads_either_case_and_refuses_anything_else() {
        let h = KeyHash::of("abc");
        assert_eq!(KeyHash::from_hex(&h.to_hex().to_uppercase()).unwrap(), h);
        let hex = h.to_hex();
        assert!(KeyHash::from_hex(&hex[..63]).is_err(), "too short");
        assert!(KeyHash::from_hex(&format!("{hex}0")).is_err(), "too long");
        for bad in ['g', 'G', ' ', '/', ':', '@', '`', 'é'] {
            let text = format!("{bad}{}", &hex[bad.len_utf8()..]);
            assert!(KeyHash::from_hex(&text).is_err(), "{bad:?} accepted");
        }
        // Every byte the table maps agrees with the hex crate.
        for byte in 0..=255u8 {
            let text: String = std::iter::repeat_n(byte as char, 64).collect();
            let ours = KeyHash::from_hex(&text).ok().map(|h| h.0);
            let mut theirs = [0u8; 32];
            let theirs = hex::decode_to_slice(&text, &mut theirs)
                .ok()
                .map(|_| theirs);
            assert_eq!(ours, theirs, "byte {byte}");
        }
    }
}
