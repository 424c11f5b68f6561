//! `tandem reservation add|del|list`: runtime reservations on the running
//! server (`config::runtime`), through its control socket. They are kept
//! in the lease database and replicated to the partner; the configuration
//! file is not edited.

use super::ConfigArg;
use crate::config::Config;
use crate::control::{self, Command};
use crate::node::ReservationCommand;
use std::process::ExitCode;

/// What `tandem reservation` does.
#[derive(clap::Subcommand)]
pub enum ReservationAction {
    /// Reserve an address for a client (replacing its runtime reservation). Refused when the
    /// address lies outside every subnet, is leased to or reserved for another client, or (in a
    /// pair) lies in a dynamic pool.
    Add {
        #[command(flatten)]
        client: ClientArg,
        /// The address to reserve.
        #[arg(long)]
        address: std::net::Ipv4Addr,
        /// Host name for the client (option 12, and its DNS name with [ddns]).
        #[arg(long)]
        hostname: Option<String>,
        #[command(flatten)]
        config: ConfigArg,
        /// Print the server's JSON answer.
        #[arg(long)]
        json: bool,
    },
    /// Remove a client's runtime reservation (reservations in the file change there).
    Del {
        #[command(flatten)]
        client: ClientArg,
        #[command(flatten)]
        config: ConfigArg,
        /// Print the server's JSON answer.
        #[arg(long)]
        json: bool,
    },
    /// List the runtime reservations, with any the configuration does not apply and why.
    List {
        #[command(flatten)]
        config: ConfigArg,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// The client a reservation is for.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub struct ClientArg {
    /// The client's Ethernet address, e.g. 52:54:00:12:34:56.
    #[arg(long)]
    mac: Option<String>,
    /// The client's identifier (option 61) in hex, type octet first, e.g. 01:52:54:00:12:34:56.
    #[arg(long)]
    client_id: Option<String>,
}

impl ClientArg {
    fn arg(&self) -> String {
        match (&self.mac, &self.client_id) {
            (Some(m), _) => format!("mac={m}"),
            (None, Some(id)) => format!("client-id={id}"),
            (None, None) => String::new(),
        }
    }
}

/// Runs `tandem reservation ...`: exit 0 when the server did it, 1 when it
/// refused (with why on stderr).
pub fn run(action: ReservationAction) -> anyhow::Result<ExitCode> {
    let (verb, args, config, json) = match &action {
        ReservationAction::Add {
            client,
            address,
            hostname,
            config,
            json,
        } => {
            let mut args = vec![client.arg(), format!("address={address}")];
            args.extend(hostname.iter().map(|h| format!("hostname={h}")));
            ("reservation-add", args, config, *json)
        }
        ReservationAction::Del {
            client,
            config,
            json,
        } => ("reservation-del", vec![client.arg()], config, *json),
        ReservationAction::List { config, json } => ("reservation-list", vec![], config, *json),
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let cmd = match ReservationCommand::parse(verb, &args) {
        Some(Ok(cmd)) => cmd,
        Some(Err(e)) => anyhow::bail!("{e}"),
        None => anyhow::bail!("unknown reservation command {verb}"),
    };
    let file = Config::load(&config.config)?;
    let v = control::call(&file.server.control_socket, Command::Reservation(cmd))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if v["ok"] == true {
        print!("{}", render(verb, &v));
    }
    if v["ok"] != true {
        eprintln!(
            "refused: {}",
            v["error"].as_str().unwrap_or("unknown error")
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The server's answer as text: a table for `list`, a sentence otherwise.
fn render(verb: &str, v: &serde_json::Value) -> String {
    let client = |r: &serde_json::Value| {
        r["mac"]
            .as_str()
            .map(|m| format!("mac {m}"))
            .or_else(|| r["client_id"].as_str().map(|c| format!("client-id {c}")))
            .unwrap_or_default()
    };
    match verb {
        "reservation-add" => format!(
            "reserved {} for {}\n",
            v["reservation"]["address"].as_str().unwrap_or("?"),
            client(&v["reservation"])
        ),
        "reservation-del" => format!(
            "removed the runtime reservation of {}\n",
            client(&v["reservation"])
        ),
        _ => {
            let mut out = format!(
                "{:<40} {:<16} {:<20} APPLIED\n",
                "CLIENT", "ADDRESS", "HOSTNAME"
            );
            for r in v["reservations"].as_array().into_iter().flatten() {
                let applied = match r["why_not"].as_str() {
                    Some(why) => format!("no: {why}"),
                    None => "yes".into(),
                };
                out += &format!(
                    "{:<40} {:<16} {:<20} {applied}\n",
                    client(r),
                    r["address"].as_str().unwrap_or("-"),
                    r["hostname"].as_str().unwrap_or("-"),
                );
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_text() {
        let list = serde_json::json!({"ok": true, "reservations": [
            {"mac": "02:00:00:00:00:01", "address": "10.0.0.5", "applied": true},
            {"client_id": "01:02", "address": "10.9.0.5", "applied": false, "why_not": "10.9.0.5 lies outside every subnet"},
        ]});
        let t = render("reservation-list", &list);
        assert!(t.contains("mac 02:00:00:00:00:01"), "{t}");
        assert!(t.contains("no: 10.9.0.5 lies outside every subnet"), "{t}");
        let add = serde_json::json!({"ok": true, "reservation": {"mac": "02:00:00:00:00:01", "address": "10.0.0.5"}});
        assert_eq!(
            render("reservation-add", &add),
            "reserved 10.0.0.5 for mac 02:00:00:00:00:01\n"
        );
    }
}
