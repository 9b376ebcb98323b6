//! Profiles on disk: `$XDG_CONFIG_HOME/apikeyd/profiles/<name>/` (default `~/.config/…`) holding
//! `config.json` (where the API is) and `auth.json` (the key, its user and local expiry).
//!
//! Directories are created 0700 and files written 0600 through a temporary file and a rename, so a
//! crash never leaves a half-written key file and the key is never readable by other users.
use super::error::{ClientError, ClientResult};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const CONFIG_FILE: &str = "config.json";
const AUTH_FILE: &str = "auth.json";

/// Where a profile points: written by `setup`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileConfig {
    /// API base URL (amplify-config `api`, trailing `/` stripped).
    pub api_url: Option<String>,
    /// The URL given to `setup`, kept for `auth status`.
    pub setup_url: Option<String>,
}

/// The key a profile uses: written by `auth login`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredAuth {
    /// Who the key acts as.
    pub user_id: String,
    /// The full key. Never printed: see [`key_prefix`].
    pub api_key: String,
    /// Local expiry in Unix seconds; after it the key is not sent.
    pub expires_at: Option<i64>,
    /// When `auth login` stored it, Unix seconds.
    pub saved_at: i64,
}

impl std::fmt::Debug for StoredAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAuth")
            .field("user_id", &self.user_id)
            .field("api_key", &key_prefix(&self.api_key))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The part of a key that may be shown: `vams_` plus four characters, then `…`.
pub fn key_prefix(key: &str) -> String {
    let shown: String = key.chars().take(9).collect();
    format!("{shown}…")
}

/// A named profile (which may not exist on disk yet).
#[derive(Debug, Clone)]
pub struct Profile {
    name: String,
    root: PathBuf,
}

impl Profile {
    /// The profile `name` under the user's config directory. Names are restricted so that they can
    /// never escape the profiles directory.
    pub fn open(name: &str) -> ClientResult<Self> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(ClientError::Usage(format!(
                "invalid profile name '{name}': use letters, digits, '-', '_' or '.' (not first), at most 64"
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            root: config_root()?,
        })
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The profile's directory.
    pub fn dir(&self) -> PathBuf {
        self.root.join("profiles").join(&self.name)
    }

    /// The stored configuration, empty when none was saved.
    pub fn config(&self) -> ClientResult<ProfileConfig> {
        Ok(read_json(&self.dir().join(CONFIG_FILE))?.unwrap_or_default())
    }

    /// Saves the configuration.
    pub fn save_config(&self, config: &ProfileConfig) -> ClientResult {
        self.write(CONFIG_FILE, config)
    }

    /// The stored key, if any.
    pub fn auth(&self) -> ClientResult<Option<StoredAuth>> {
        read_json(&self.dir().join(AUTH_FILE))
    }

    /// Saves the key.
    pub fn save_auth(&self, auth: &StoredAuth) -> ClientResult {
        self.write(AUTH_FILE, auth)
    }

    /// Removes the stored key; false when there was none.
    pub fn remove_auth(&self) -> ClientResult<bool> {
        let path = self.dir().join(AUTH_FILE);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(ClientError::io("remove", &path, e)),
        }
    }

    fn write<T: Serialize>(&self, file: &str, value: &T) -> ClientResult {
        let dir = self.dir();
        private_dirs(&self.root, &dir)?;
        let mut text = serde_json::to_string_pretty(value)
            .map_err(|e| ClientError::Refused(format!("cannot encode {file}: {e}")))?;
        text.push('\n');
        let target = dir.join(file);
        let temp = dir.join(format!(".{file}.{}.tmp", std::process::id()));
        write_private(&temp, text.as_bytes())
            .and_then(|()| fs::rename(&temp, &target))
            .map_err(|e| {
                let _ = fs::remove_file(&temp);
                ClientError::io("write", &target, e)
            })
    }
}

/// `$XDG_CONFIG_HOME/apikeyd` when that is an absolute path, else `$HOME/.config/apikeyd`.
fn config_root() -> ClientResult<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = match xdg {
        Some(dir) => dir,
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .map(|home| home.join(".config"))
            .ok_or_else(|| {
                ClientError::Refused(
                    "cannot find the config directory: set HOME or XDG_CONFIG_HOME".into(),
                )
            })?,
    };
    Ok(base.join("apikeyd"))
}

fn read_json<T: DeserializeOwned>(path: &Path) -> ClientResult<Option<T>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ClientError::io("read", path, e)),
    };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        ClientError::Refused(format!(
            "{} is damaged ({e}); fix or delete it",
            path.display()
        ))
    })
}

/// Creates `dir` (and `root/profiles`) readable by the owner only; tightens them if they exist.
fn private_dirs(root: &Path, dir: &Path) -> ClientResult {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| ClientError::io("create", dir, e))?;
    #[cfg(unix)]
    for path in [root, &root.join("profiles"), dir] {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))
            .map_err(|e| ClientError::io("protect", path, e))?;
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // A stale temporary file keeps its old mode on open: set it explicitly.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_prefix_shows_nine_characters() {
        assert_eq!(key_prefix("vams_abcdefghijkl"), "vams_abcd…");
        assert_eq!(key_prefix("abc"), "abc…");
    }

    #[test]
    fn profile_names_cannot_escape() {
        for bad in ["", "..", ".hidden", "a/b", "a b", &"x".repeat(65)] {
            assert!(
                matches!(Profile::open(bad), Err(ClientError::Usage(_))),
                "{bad:?} should be refused"
            );
        }
    }
}
