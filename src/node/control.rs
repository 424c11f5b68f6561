//! Operator commands (`tandem status`, `tandem partner-down`, `tandem
//! end-relearn`), answered as JSON from the node's own state.

use super::Node;
use crate::time::Time;
use serde_json::{Value, json};

/// A control-socket command; one line on the socket, one JSON answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl Command {
    /// The command named by one line of the control socket, if any.
    pub fn parse(s: &str) -> Option<Command> {
        match s.trim() {
            "status" => Some(Command::Status),
            "partner-down" => Some(Command::PartnerDown),
            "end-relearn" => Some(Command::EndRelearn),
            "reload" => Some(Command::Reload),
            "maintenance-start" => Some(Command::MaintenanceStart),
            "maintenance-stop" => Some(Command::MaintenanceStop),
            _ => None,
        }
    }

    /// The line that names this command.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Status => "status",
            Command::PartnerDown => "partner-down",
            Command::EndRelearn => "end-relearn",
            Command::Reload => "reload",
            Command::MaintenanceStart => "maintenance-start",
            Command::MaintenanceStop => "maintenance-stop",
        }
    }
}

impl Node {
    pub(super) fn control(&mut self, now: Time, cmd: Command) -> Value {
        match cmd {
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
        }
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
