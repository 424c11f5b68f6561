//! Writing imported leases (`tandem import-isc`): all of them in one
//! transaction into a database that holds none, so a failure leaves nothing
//! half-imported and no lease of a running installation is overwritten.

use super::{Batch, EPOCH_KEY, Lease, StoreError, new_epoch, open, read_meta, write};
use std::path::Path;

/// Writes `leases` into the database at `path` (created, as by `tandem
/// init`, when missing) in one transaction. Returns how many were written.
/// Errors: `NotEmpty` when the database already holds lease records, or any
/// SQLite failure (then nothing is written).
pub fn import(path: &Path, leases: Vec<Lease>) -> Result<usize, StoreError> {
    let err = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let mut conn = open(path, true)?;
    let held: i64 = conn
        .query_row("SELECT COUNT(*) FROM lease", [], |r| r.get(0))
        .map_err(err)?;
    if held > 0 {
        return Err(StoreError::NotEmpty {
            path: path.to_path_buf(),
            held: held as u64,
        });
    }
    let mut meta = Vec::new();
    if !read_meta(&conn).map_err(err)?.contains_key(EPOCH_KEY) {
        meta.push((EPOCH_KEY.to_string(), new_epoch(path)?));
    }
    let batch = Batch {
        id: 0,
        leases,
        meta,
    };
    write(&mut conn, std::slice::from_ref(&batch)).map_err(err)
}
