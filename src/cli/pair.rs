//! `status`, `partner-down`, `maintenance`, `reload` and `keygen`.

use crate::config::Config;
use crate::control::{self, Command};
use std::path::Path;
use std::process::ExitCode;

/// `tandem status`: the running server's status object, as JSON or as one
/// screen (`status_view`).
pub fn status(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let v = control::call(&config.server.control_socket, Command::Status)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", super::status_view::render(&v));
    Ok(ExitCode::SUCCESS)
}

pub fn partner_down(path: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let v = control::call(&config.server.control_socket, Command::PartnerDown)?;
    if v["ok"] == true {
        println!(
            "partner-down: this server is now in state {}",
            v["state"].as_str().unwrap_or("?")
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "partner-down refused: {}",
            v["error"].as_str().unwrap_or("unknown error")
        );
        Ok(ExitCode::FAILURE)
    }
}

/// What `tandem maintenance` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MaintenanceAction {
    /// Hand every client to the partner and serve no one.
    Start,
    /// Catch up with the partner and serve again.
    Stop,
}

/// `tandem maintenance start|stop -c FILE [--json]`: asks the running
/// server, prints its answer; exit 1 when it refuses (with why).
pub fn maintenance(path: &Path, action: MaintenanceAction, json: bool) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let cmd = match action {
        MaintenanceAction::Start => Command::MaintenanceStart,
        MaintenanceAction::Stop => Command::MaintenanceStop,
    };
    let v = control::call(&config.server.control_socket, cmd)?;
    let ok = v["ok"] == true;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if ok && action == MaintenanceAction::Start {
        println!(
            "maintenance: this server now serves no one (state {}); the partner takes over every client. End it with `tandem maintenance stop` or a restart.",
            v["state"].as_str().unwrap_or("?")
        );
    } else if ok {
        println!(
            "maintenance over: this server catches up with the partner, then serves again (state {} until then)",
            v["state"].as_str().unwrap_or("?")
        );
    } else {
        eprintln!(
            "maintenance refused: {}",
            v["error"].as_str().unwrap_or("unknown error")
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `tandem reload -c FILE`: checks FILE, then asks the server whose control
/// socket it names to re-read its own configuration file (the one it was
/// started with) and prints what it applied or every key it refused.
pub fn reload(path: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    let v = control::call(&config.server.control_socket, Command::Reload)?;
    if v["ok"] == true {
        println!(
            "reloaded: {} subnets, {} pools, {} reservations",
            v["subnets"], v["pools"], v["reservations"]
        );
        return Ok(ExitCode::SUCCESS);
    }
    match v["refused"].as_array() {
        Some(list) => {
            eprintln!("reload refused; the running configuration stays:");
            for r in list {
                eprintln!(
                    "  {}: {}",
                    r["key"].as_str().unwrap_or("?"),
                    r["why"].as_str().unwrap_or("?")
                );
            }
        }
        None => eprintln!(
            "reload refused; the running configuration stays: {}",
            v["error"].as_str().unwrap_or("unknown error")
        ),
    }
    Ok(ExitCode::FAILURE)
}

/// `tandem keygen [-o FILE]`: a new key on stdout, or in a new file with
/// mode 0600 (never over an existing one).
pub fn keygen(out: Option<&Path>) -> anyhow::Result<ExitCode> {
    match out {
        Some(path) => {
            crate::keyfile::write_new(path)?;
            eprintln!(
                "wrote a new key to {} (mode 0600); copy it to the partner and make the server's user its owner",
                path.display()
            );
        }
        None => print!("{}", crate::keyfile::generate()?),
    }
    Ok(ExitCode::SUCCESS)
}
