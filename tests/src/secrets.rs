//! Key material in bytes: finding `vams_…` keys in text, hashing them as the store does, counting
//! where they occur, and reading the audit file.
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Every API key starts with this.
pub const KEY_PREFIX: &str = "vams_";

/// Characters of the URL-safe alphabet keys are made of.
pub fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// True for `vams_` followed by at least 43 URL-safe characters (256 bits) and nothing else.
pub fn is_well_formed_key(key: &str) -> bool {
    key.strip_prefix(KEY_PREFIX)
        .is_some_and(|rest| rest.chars().count() >= 43 && rest.chars().all(is_key_char))
}

/// Every `vams_` followed by at least 40 URL-safe characters in `text`, in order.
pub fn find_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(KEY_PREFIX) {
        let tail = &rest[at + KEY_PREFIX.len()..];
        let len = tail.find(|c: char| !is_key_char(c)).unwrap_or(tail.len());
        if len >= 40 {
            keys.push(format!("{KEY_PREFIX}{}", &tail[..len]));
        }
        rest = &tail[len..];
    }
    keys
}

/// The random part of a key, without `vams_`: what must not leak, with or without its prefix.
pub fn secret_part(key: &str) -> &str {
    key.strip_prefix(KEY_PREFIX).unwrap_or(key)
}

/// Lower-case hex SHA-256 of the whole key, as the store keeps it.
pub fn sha256_hex(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// How often `needle` occurs in `haystack` (overlaps counted).
pub fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() || haystack.len() < needle.len() {
        return 0;
    }
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle)
        .count()
}

/// The file's bytes, or nothing when it does not exist (a WAL may be checkpointed away).
pub fn read_or_empty(path: &Path) -> Vec<u8> {
    match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("read {}: {e}", path.display()),
    }
}

/// The file's bytes as [`read_or_empty`] gives them, read by a child process (`cat`). For a SQLite
/// file a server in this process has open: POSIX advisory locks belong to the process, and closing
/// any descriptor of the file drops all of them, so reading it here would silently take away the
/// server's locks. Another process (`apikeyd import`) could then checkpoint and delete the WAL under
/// the server, which goes on reading the unlinked one: it no longer sees new commits, and the next
/// open in this process finds the database malformed.
pub fn read_from_another_process(path: &Path) -> Vec<u8> {
    let output = std::process::Command::new("cat")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("run cat {}: {e}", path.display()));
    match output.status.success() {
        true => output.stdout,
        // Gone meanwhile (a WAL checkpointed away) or never there.
        false if !path.exists() => Vec::new(),
        false => panic!(
            "cat {}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// Every file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Every line of a JSON-lines audit file, parsed; panics on a line that is not a JSON object.
pub fn read_audit(path: &Path) -> Vec<Value> {
    let text = String::from_utf8(read_or_empty(path)).expect("the audit file is UTF-8");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {line}"));
            assert!(value.is_object(), "audit line is not an object: {line}");
            value
        })
        .collect()
}

/// A well-formed key that no server issued.
pub fn unknown_key() -> String {
    format!(
        "{KEY_PREFIX}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_in_text() {
        let key = format!("vams_{}", "a".repeat(43));
        let text = format!("Admin key:\n  {key}\nvams_short and {key}.");
        assert_eq!(find_keys(&text), vec![key.clone(), key.clone()]);
        assert!(is_well_formed_key(&key));
        assert!(!is_well_formed_key("vams_abc"));
        assert!(!is_well_formed_key(&format!("{key}!")));
    }

    #[test]
    fn counts_and_hashes() {
        assert_eq!(occurrences(b"abcabc", b"abc"), 2);
        assert_eq!(occurrences(b"ab", b"abc"), 0);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
