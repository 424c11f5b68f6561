//! Operator commands (`tandem status`, `tandem partner-down`, `tandem
//! end-relearn`, `tandem reservation`...), answered as JSON from the node's
//! own state.

use super::Node;
use super::reservations::ReservationCommand;
use crate::time::Time;
use serde_json::{Value, json};

/// A control-socket command; one line on the socket, one JSON answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// This server's state, its partner's, counters and the re-learning wait.
    Status,
    /// The operator declares the partner down (draft-12 PARTNER-DOWN).
    PartnerDown,
    /// End the re-learning wait after a lost database (`lease::relearn`).
    EndRelearn,
    /// Hand every client to the partner and serve no one (SHUTDOWN).
    MaintenanceStart,
    /// Leave maintenance: catch up with the partner, then serve again.
    MaintenanceStop,
    /// Re-read the configuration file. The edge reads and validates it and
    /// hands it over as `Input::Reload`; the node cannot read files, so it
    /// answers this command itself only with an error.
    Reload,
    /// Add, remove or list runtime reservations (`config::runtime`).
    Reservation(ReservationCommand),
}

impl Command {
    /// The command on one line of the control socket. Errors: an unknown
    /// command, or a reservation command's bad arguments, said plainly.
    pub fn parse(s: &str) -> Result<Command, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let Some((&verb, args)) = words.split_first() else {
            return Err("empty command".into());
        };
        if let Some(r) = ReservationCommand::parse(verb, args) {
            return r.map(Command::Reservation);
        }
        let plain = match verb {
            "status" => Command::Status,
            "partner-down" => Command::PartnerDown,
            "end-relearn" => Command::EndRelearn,
            "reload" => Command::Reload,
            "maintenance-start" => Command::MaintenanceStart,
            "maintenance-stop" => Command::MaintenanceStop,
            _ => return Err(format!("unknown command {:?}", s.trim())),
        };
        if !args.is_empty() {
            return Err(format!("{verb} takes no arguments"));
        }
        Ok(plain)
    }

    /// The line that names this command (what `parse` reads back).
    pub fn line(&self) -> String {
        match self {
            Command::Status => "status".into(),
            Command::PartnerDown => "partner-down".into(),
            Command::EndRelearn => "end-relearn".into(),
            Command::Reload => "reload".into(),
            Command::MaintenanceStart => "maintenance-start".into(),
            Command::MaintenanceStop => "maintenance-stop".into(),
            Command::Reservation(r) => r.line(),
        }
    }
}

impl Node {
    /// Answers `cmd` (request `id`); `None` when the answer waits for the
    /// journal (a reservation change) and follows as `Output::Answer`.
    pub(super) fn control(&mut self, now: Time, id: u64, cmd: Command) -> Option<Value> {
        let answer = match cmd {
            Command::Reservation(r) => return self.reservation(now, id, r),
            Command::Status => self.status(now),
            Command::Reload => {
                json!({ "ok": false, "error": "reload needs the configuration file, which the edge reads (Input::Reload)" })
            }
            Command::EndRelearn => {
                let was = self.store.relearn_until().filter(|t| now < *t);
                if was.is_some() {
                    tracing::warn!(
                        "operator ended the re-learning wait after a lost database: allocating again"
                    );
                    self.end_relearning();
                }
                json!({ "ok": true, "was_waiting": was.is_some() })
            }
            Command::MaintenanceStart | Command::MaintenanceStop => self.maintenance(now, cmd),
            Command::PartnerDown => match &mut self.peer {
                None => json!({ "ok": false, "error": "this server has no [failover] partner" }),
                Some(p) => match p.operator_partner_down(now) {
                    Ok(()) => json!({ "ok": true, "state": p.state().as_str() }),
                    Err(e) => json!({ "ok": false, "error": e, "state": p.state().as_str() }),
                },
            },
        };
        Some(answer)
    }

    fn status(&self, now: Time) -> Value {
        let mut v = match &self.peer {
            Some(p) => p.status(now, &self.store),
            None => {
                json!({ "state": "standalone", "partner_state": null, "unacked_updates": 0 })
            }
        };
        v["ok"] = true.into();
        let relearn = self.store.relearn_until().filter(|t| now < *t);
        v["relearn_until"] = relearn.map(|t| t.rfc3339()).into();
        if let Some(t) = relearn {
            v["serving"] = format!(
                "renewals only: re-learning leases after a lost database; no new address until {t} (`tandem end-relearn` ends the wait)"
            )
            .into();
        } else if self.peer.is_none() {
            v["serving"] = "every client".into();
        }
        v["pools"] = self.pool_status(now);
        v["server"] = self.config.server.name.clone().into();
        v["uptime"] = now.0.saturating_sub(self.started.0).into();
        v["leases"] = self.store.len().into();
        v["runtime_reservations"] = json!({
            "reserving": self.runtime.live().count(),
            "not_applied": self.shadowed.len(),
        });
        let s = &self.stats;
        v["stats"] = json!({
            "received": s.received,
            "offers": s.offers,
            "acks": s.acks,
            "naks": s.naks,
            "ignored": s.ignored,
            "malformed": s.malformed,
            "oversized": s.oversized,
            "overloaded": s.overloaded,
            "rate_limited": s.rate_limited,
            "commits": s.commits,
            "pings_silent": s.pings_silent,
            "pings_answered": s.pings_answered,
        });
        if self.config.ddns.is_some() {
            v["ddns"] = json!({
                "jobs_in_flight": self.dns.in_flight(),
                "updates": s.dns_updates,
                "failures": s.dns_failures,
            });
        }
        v
    }

    /// Per pool: its id, range and subnet, free addresses by owner and lease
    /// records by state (`status --json` "pools").
    fn pool_status(&self, now: Time) -> Value {
        let f = self.figures(now);
        let pools = f.pools.iter().enumerate().map(|(i, p)| {
            let mut leases = serde_json::Map::new();
            for ((state, _), n) in &p.leases {
                let e = leases.entry(state.as_str()).or_insert(json!(0));
                *e = json!(e.as_u64().unwrap_or(0) + *n as u64);
            }
            json!({
                "pool": i,
                "range": p.range,
                "subnet": p.subnet,
                "free_primary": p.free[0],
                "free_secondary": p.free[1],
                "leases": leases,
            })
        });
        Value::Array(pools.collect())
    }

    /// `maintenance start|stop`: the peer's answer, with the state after.
    fn maintenance(&mut self, now: Time, cmd: Command) -> Value {
        let Some(p) = &mut self.peer else {
            return json!({ "ok": false, "error": "this server has no [failover] partner to hand its clients to" });
        };
        let done = if cmd == Command::MaintenanceStart {
            p.maintenance_start(now)
        } else {
            p.maintenance_stop(now)
        };
        match done {
            Ok(()) => json!({ "ok": true, "state": p.state().as_str() }),
            Err(e) => json!({ "ok": false, "error": e, "state": p.state().as_str() }),
        }
    }
}
