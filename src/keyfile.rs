//! Key files at rest (`failover.secret_file`, `ddns.key.secret_file`): read only when no
//! one but its owner can read it, as ssh does with private keys, and written
//! by `tandem keygen -o FILE` with mode 0600. The key's format (hex, at least
//! 16 octets) is `failover::codec::parse_key`'s.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Octets in a key that `generate` makes (256 bits, as long as an HMAC-SHA-256 digest).
pub const KEY_OCTETS: usize = 32;

/// Why a key file cannot be used or written; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file cannot be read (missing, no permission).
    #[error("{setting} {path}: {source}")]
    Read {
        /// The setting that names the file.
        setting: &'static str,
        /// The key file.
        path: PathBuf,
        /// The error reading it.
        source: std::io::Error,
    },
    /// Group or others may read or write the file: anyone who can read the key
    /// can forge binding updates.
    #[error(
        "{setting} {path} is open to group or others (mode {mode:04o}); \
         run `chmod 600 {path}` and make the server's user its owner"
    )]
    Exposed {
        /// The setting that names the file.
        setting: &'static str,
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold a usable key.
    #[error("{setting} {path}: {reason}")]
    Invalid {
        /// The setting that names the file.
        setting: &'static str,
        /// The key file.
        path: PathBuf,
        /// What is wrong with its content.
        reason: String,
    },
    /// `keygen -o` found a file already there; a key in use is never overwritten.
    #[error(
        "{path} already exists; remove it first to replace the key (both peers need the same key)"
    )]
    Exists {
        /// The file that exists.
        path: PathBuf,
    },
    /// The new key file cannot be created or written.
    #[error("{path}: {source}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The error writing it.
        source: std::io::Error,
    },
    /// The operating system's random source failed.
    #[error("no random numbers for a key: {0}")]
    Random(std::io::Error),
}

/// Reads the failover key in `path`. Errors: the file cannot be read, its
/// mode lets group or others in (`Exposed`, checked before the content is
/// read), or its content is not a key of at least 16 octets.
pub fn load(path: &Path) -> Result<Vec<u8>, KeyFileError> {
    load_secret(
        path,
        "failover.secret_file",
        crate::failover::codec::parse_key,
    )
}

/// Reads a secret from `path`, named by `setting` in errors, with `parse`
/// (which says what is wrong with the text). Errors as [`load`]'s.
pub fn load_secret(
    path: &Path,
    setting: &'static str,
    parse: fn(&str) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, KeyFileError> {
    let read = |source| KeyFileError::Read {
        setting,
        path: path.to_path_buf(),
        source,
    };
    let mode = std::fs::metadata(path).map_err(read)?.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Exposed {
            setting,
            path: path.to_path_buf(),
            mode,
        });
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    parse(&text).map_err(|reason| KeyFileError::Invalid {
        setting,
        path: path.to_path_buf(),
        reason,
    })
}

/// A new random key as `load` reads it: `KEY_OCTETS` octets in lower-case
/// hex and a newline. Errors: the random source failed.
pub fn generate() -> Result<String, KeyFileError> {
    let key = crate::random::bytes::<KEY_OCTETS>().map_err(KeyFileError::Random)?;
    let mut text: String = key.iter().map(|b| format!("{b:02x}")).collect();
    text.push('\n');
    Ok(text)
}

/// Writes a new key (`generate`) to `path`, created with mode 0600. Errors:
/// the file exists (`Exists`; never overwritten), or it cannot be created.
pub fn write_new(path: &Path) -> Result<(), KeyFileError> {
    write_secret(path, &generate()?)
}

/// Writes `text` (a secret) to the new file `path`, created with mode 0600
/// and synced. Errors: the file exists (`Exists`; never overwritten), or it
/// cannot be created or written.
pub fn write_secret(path: &Path, text: &str) -> Result<(), KeyFileError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => KeyFileError::Exists {
                path: path.to_path_buf(),
            },
            _ => KeyFileError::Write {
                path: path.to_path_buf(),
                source,
            },
        })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|source| KeyFileError::Write {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_mode(dir: &Path, mode: u32, text: &str) -> PathBuf {
        let p = dir.join(format!("key-{mode:o}"));
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn a_key_open_to_group_or_others_is_refused_with_the_chmod_that_fixes_it() {
        let dir = tempfile::tempdir().unwrap();
        let key = "00112233445566778899aabbccddeeff";
        for mode in [0o644, 0o640, 0o604, 0o620, 0o602] {
            let p = with_mode(dir.path(), mode, key);
            let e = load(&p).unwrap_err().to_string();
            assert!(e.contains(&format!("chmod 600 {}", p.display())), "{e}");
            assert!(e.contains(&format!("{mode:04o}")), "{e}");
        }
        for mode in [0o600, 0o400] {
            assert_eq!(load(&with_mode(dir.path(), mode, key)).unwrap().len(), 16);
        }
    }

    #[test]
    fn a_written_key_is_private_loads_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("peer.key");
        write_new(&p).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let key = load(&p).unwrap();
        assert_eq!(key.len(), KEY_OCTETS);
        assert!(matches!(write_new(&p), Err(KeyFileError::Exists { .. })));
        assert_eq!(load(&p).unwrap(), key, "the first key stands");
    }

    #[test]
    fn a_short_or_non_hex_key_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for text in ["0011", "not a key at all, not hex"] {
            let p = with_mode(dir.path(), 0o600, text);
            let e = load(&p).unwrap_err().to_string();
            assert!(e.contains(&p.display().to_string()), "{e}");
        }
    }
}
