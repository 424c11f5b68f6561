//! `init` (create the database of a new installation) and `end-relearn`
//! (end the wait after a lost database). See `lease::relearn` for why a new
//! installation is told apart from a lost database.

use crate::config::Config;
use crate::control::{self, Command};
use crate::lease::sqlite;
use std::path::Path;
use std::process::ExitCode;

/// Creates `[server] lease_db` for a server that has never served. Exits 0
/// without touching an existing database.
pub fn init(path: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let db = &config.server.lease_db;
    if sqlite::initialise(db)? {
        println!("initialised a new lease database at {}", db.display());
    } else {
        println!("{} is already initialised; left as it is", db.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Tells the running server that its lost database's leases need no more
/// waiting for (the operator knows no client holds one it forgot).
pub fn end_relearn(path: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let v = control::call(&config.server.control_socket, Command::EndRelearn)?;
    if v["ok"] != true {
        eprintln!(
            "end-relearn refused: {}",
            v["error"].as_str().unwrap_or("?")
        );
        return Ok(ExitCode::FAILURE);
    }
    if v["was_waiting"] == true {
        println!("end-relearn: the server gives new addresses again");
    } else {
        println!("end-relearn: the server was not waiting; nothing changed");
    }
    Ok(ExitCode::SUCCESS)
}
