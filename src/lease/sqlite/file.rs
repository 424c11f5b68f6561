//! The database file's mode: private to the server's user and group.

use std::path::Path;

/// Creates the database file (and its directory) with mode 0640, or takes
/// group write and every bit for others from an existing one and its WAL
/// files: it holds client MACs and host names. SQLite gives the `-wal` and
/// `-shm` files it creates the database file's mode.
pub(super) fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o640)
        .open(path)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o027 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & !0o027))?;
        }
    }
    Ok(())
}
