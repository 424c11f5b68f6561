//! The lease journal: SQLite in WAL mode on a thread of its own.
//!
//! Changes arrive in numbered batches. The writer takes everything queued
//! while its previous transaction was syncing (and, under load, what
//! arrives within `writer::COMMIT_WINDOW`) and commits it as one transaction
//! (group commit), then reports the highest batch number now
//! durable. The server sends a DHCPACK only after its batch is reported, so a
//! client never holds a lease the disk does not.

use super::journal::{Batch, EPOCH_KEY, Snapshot};
use super::model::Lease;
use rusqlite::{Connection, OpenFlags, params};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Version 2 added the `dns` column (a binding's DNS records, JSON);
/// version 3 lists every stale name in it (`DnsRecords::stale`).
const SCHEMA_VERSION: i64 = 3;
/// Why the lease database could not be opened, read or written. Each names the
/// database file, so the log line says where to look.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused an operation (open, pragma, schema, query or commit).
    #[error("lease database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The database file or its directory cannot be created, or its mode
    /// cannot be made private (0640).
    #[error(
        "lease database {path}: cannot create it or its directory, or make it private: {source}"
    )]
    File {
        /// The database file.
        path: PathBuf,
        /// The error from the file system.
        source: std::io::Error,
    },
    /// The system random source failed while giving a new database its identity (epoch).
    #[error("lease database {path}: no random number for its identity: {source}")]
    Random {
        /// The database file.
        path: PathBuf,
        /// The error from the random source.
        source: std::io::Error,
    },
    /// An import found lease records already in the database.
    #[error(
        "lease database {path} already holds {held} lease records; import into a new database (move this one aside)"
    )]
    NotEmpty {
        /// The database file.
        path: PathBuf,
        /// Records found.
        held: u64,
    },
    /// The writer thread could not be spawned.
    #[error("cannot start the lease journal's writer thread: {source}")]
    Thread {
        /// The error from spawning it.
        source: std::io::Error,
    },
    /// A stored row cannot be a lease record (unknown state or owner, oversized field...).
    #[error("lease database {path}: row for {addr} is corrupt: {what}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The row's address.
        addr: Ipv4Addr,
        /// What is wrong with it.
        what: String,
    },
    #[error(
        "lease database {path} has schema version {found}, newer than this tandem ({SCHEMA_VERSION}); upgrade tandem"
    )]
    /// The database was written by a newer tandem (`PRAGMA user_version` above ours);
    /// it is left untouched.
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version found in it.
        found: i64,
    },
}

/// What the writer thread reports back to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitEvent {
    /// Every batch numbered up to `upto` is durable.
    Committed {
        /// Every batch numbered up to this one.
        upto: u64,
        /// Lease records written in the transaction.
        leases: usize,
        /// How long the transaction took, fsync included, microseconds.
        micros: u64,
    },
    /// The batches up to `upto` could not be written; their replies must not be sent.
    Failed {
        /// The highest batch number of the failed transaction.
        upto: u64,
        /// The database error, for the log.
        error: String,
    },
}

fn read_meta(c: &Connection) -> rusqlite::Result<std::collections::HashMap<String, String>> {
    let mut st = c.prepare("SELECT key, value FROM meta")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    rows.collect()
}

/// A random non-zero 63-bit number: the database's identity.
fn random_epoch() -> std::io::Result<u64> {
    let b = crate::random::bytes::<8>()?;
    Ok((u64::from_le_bytes(b) >> 1).max(1))
}

/// Handle to the writer thread.
pub struct Journal {
    tx: Option<mpsc::Sender<Batch>>,
    thread: Option<JoinHandle<()>>,
    next_id: u64,
}

/// The tables, created on first open: one row per address (times in
/// seconds since the Unix epoch) and the key/value `meta` table.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS lease (
            address INTEGER PRIMARY KEY,
            state INTEGER NOT NULL,
            owner INTEGER NOT NULL,
            client_id BLOB,
            htype INTEGER NOT NULL,
            chaddr BLOB NOT NULL,
            hostname TEXT,
            relay_info BLOB,
            starts INTEGER NOT NULL,
            expires INTEGER NOT NULL,
            cltt INTEGER NOT NULL,
            lease_time INTEGER NOT NULL,
            potential_expiry INTEGER NOT NULL,
            acked_potential_expiry INTEGER NOT NULL,
            update_seq INTEGER NOT NULL DEFAULT 0,
            dns TEXT
        );
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/// From schema version 1 to 2, in one transaction with the version.
const MIGRATE_1_TO_2: &str =
    "BEGIN; ALTER TABLE lease ADD COLUMN dns TEXT; PRAGMA user_version = 2; COMMIT;";

/// A connection with tandem's pragmas and schema.
fn open(path: &Path, sync_full: bool) -> Result<Connection, StoreError> {
    let err = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    private_file(path).map_err(|source| StoreError::File {
        path: path.to_path_buf(),
        source,
    })?;
    let c = Connection::open(path).map_err(err)?;
    // The version first: a newer tandem's database is left as it was.
    let version: i64 = c
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
        });
    }
    c.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
    c.pragma_update(
        None,
        "synchronous",
        if sync_full { "FULL" } else { "NORMAL" },
    )
    .map_err(err)?;
    c.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(err)?;
    if version == 1 {
        c.execute_batch(MIGRATE_1_TO_2).map_err(err)?;
    }
    // Version 3 changed no table, only the `dns` column's JSON (every
    // stale name), which an older tandem cannot read: it refuses the
    // database by name instead.
    c.execute_batch(SCHEMA).map_err(err)?;
    c.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(err)?;
    Ok(c)
}

/// Creates the database of a new installation (`tandem init`). Returns
/// false, touching nothing, if `path` already holds a tandem database.
pub fn initialise(path: &Path) -> Result<bool, StoreError> {
    let conn = open(path, true)?;
    let meta = read_meta(&conn).map_err(|source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.contains_key(EPOCH_KEY) {
        return Ok(false);
    }
    write_epoch(&conn, path, &new_epoch(path)?)?;
    Ok(true)
}

/// A fresh identity for a database.
fn new_epoch(path: &Path) -> Result<String, StoreError> {
    random_epoch()
        .map(|e| e.to_string())
        .map_err(|source| StoreError::Random {
            path: path.to_path_buf(),
            source,
        })
}

fn write_epoch(conn: &Connection, path: &Path, epoch: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        params![EPOCH_KEY, epoch],
    )
    .map(drop)
    .map_err(|source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads every lease record from the database at `path`, opened read-only, so it
/// works while the server runs (`tandem leases`). Errors: `Sqlite` when the file
/// cannot be opened or read, `Corrupt` for a row that is not a lease record.
/// Reads every lease without disturbing a server that has the database open.
pub fn read_all(path: &Path) -> Result<Vec<Lease>, StoreError> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    })?;
    c.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
    read(&c, path)
}

impl Journal {
    /// Opens (creating if needed) the database, loads every lease and starts
    /// the writer thread, which reports on `events`. A database without an
    /// identity (`Snapshot::created`) is given one in the snapshot's meta
    /// only: it is written with the first batch.
    pub fn open(
        path: &Path,
        sync_full: bool,
        events: tokio::sync::mpsc::UnboundedSender<CommitEvent>,
    ) -> Result<(Journal, Snapshot), StoreError> {
        let mut conn = open(path, sync_full)?;
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let leases = read(&conn, path)?;
        let mut meta = read_meta(&conn).map_err(err)?;
        // A database without an identity gets one in memory; the node
        // writes it in its first batch, together with what a lost database
        // means (`lease::relearn`), so a crash before that commit finds the
        // database still without one.
        let created = !meta.contains_key(EPOCH_KEY);
        if created {
            meta.insert(EPOCH_KEY.into(), new_epoch(path)?);
        }
        let loaded = Snapshot {
            leases,
            meta,
            created,
        };
        let (tx, rx) = mpsc::channel::<Batch>();
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("lease-journal".into())
            .spawn(move || writer(&mut conn, &path, rx, events))
            .map_err(|source| StoreError::Thread { source })?;
        Ok((
            Journal {
                tx: Some(tx),
                thread: Some(thread),
                next_id: 0,
            },
            loaded,
        ))
    }

    /// The number of the last batch submitted.
    pub fn last_submitted(&self) -> u64 {
        self.next_id
    }

    /// Queues `batch` for the next commit. Batches must come numbered in
    /// order (the node numbers them); `CommitEvent`s report them by number.
    pub fn submit(&mut self, batch: Batch) {
        debug_assert!(batch.id > self.next_id, "journal batches out of order");
        self.next_id = batch.id;
        let id = batch.id;
        if let Some(tx) = &self.tx {
            // The writer exits only after `close`, or if it died; then nothing
            // is durable any more and no reply waiting on it will be sent.
            if tx.send(batch).is_err() {
                tracing::error!(
                    batch = id,
                    "lease journal writer is gone: changes are not being saved and ACKs are withheld"
                );
            }
        }
    }

    /// Commits everything queued, then stops the writer.
    pub fn close(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

mod file;
mod import;
mod rows;
mod writer;

use file::private_file;
pub use import::import;
use rows::read;
use writer::{write, writer};

#[cfg(test)]
mod tests;
