//! `tandem import-isc --leases FILE`: an ISC dhcpd lease file into the
//! configured lease database (`migrate`), reported by state, with every
//! skipped line; all or nothing.

use crate::config::Config;
use crate::control::{self, Command};
use crate::lease::sqlite;
use crate::migrate::{import, isc_leases};
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

/// Reads `leases` (dhcpd.leases) and writes what tandem can hold into the
/// database of the config at `path`, unless `dry_run`. Errors: the config or
/// lease file cannot be read (a malformed line is named), a server is
/// running on that database, or the database already holds leases.
pub fn run(path: &Path, leases: &Path, dry_run: bool) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let text = std::fs::read(leases).with_context(|| format!("{}", leases.display()))?;
    let text = String::from_utf8_lossy(&text);
    let file = isc_leases::parse(&text).with_context(|| format!("{}", leases.display()))?;
    let blocks = file.blocks;
    let imported = import::to_tandem(file, &config);
    for s in &imported.skipped {
        eprintln!(
            "{}:{}: skipped `{}`: {}",
            leases.display(),
            s.line,
            s.what,
            s.why
        );
    }
    println!(
        "{}: {} lease blocks, {} addresses to import, {} statements or leases skipped",
        leases.display(),
        blocks,
        imported.leases.len(),
        imported.skipped.len()
    );
    for (state, n) in &imported.by_state {
        println!("  {state:<10} {n}");
    }
    if dry_run {
        println!("dry run: nothing written");
        return Ok(ExitCode::SUCCESS);
    }
    let socket = &config.server.control_socket;
    if control::call(socket, Command::Status).is_ok() {
        anyhow::bail!(
            "a tandem server answers on {}; stop it before importing into its database",
            socket.display()
        );
    }
    let db = &config.server.lease_db;
    let n = sqlite::import(db, imported.leases)?;
    println!(
        "wrote {n} lease records to {} in one transaction",
        db.display()
    );
    Ok(ExitCode::SUCCESS)
}
