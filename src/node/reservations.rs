//! Runtime reservations on a running node (`config::runtime`): the
//! operator's add, del and list from the control socket, the partner's set
//! from the peer link, and the configuration they make with the file's.
//! Every change is kept in the journal's meta table; the operator's answer
//! waits until it is durable.

use super::Node;
use super::commits::Waiting;
use crate::config::Config;
use crate::config::runtime::{
    MAX_ENTRIES, META_KEY, ReservedClient, RuntimeEntry, Shadowed, hex, is_host_label,
};
use crate::config::values::parse_hex;
use crate::lease::{Lease, LeaseState};
use crate::time::Time;
use serde_json::{Value, json};
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Encoded octets of runtime reservations per peer frame, well under the
/// 64 KiB frame limit (`RuntimeReservations::frames`).
pub(super) const FRAME_OCTETS: usize = 32 * 1024;

/// What the operator asked of runtime reservations: the control line
/// `reservation-add mac=MAC|client-id=HEX address=ADDR [hostname=NAME]`,
/// `reservation-del mac=MAC|client-id=HEX` or `reservation-list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReservationCommand {
    /// Reserve `address` for `client` (replacing its runtime reservation).
    Add {
        /// The client.
        client: ReservedClient,
        /// The address.
        address: Ipv4Addr,
        /// Its host name (option 12), if any.
        hostname: Option<String>,
    },
    /// Remove the client's runtime reservation.
    Del {
        /// The client.
        client: ReservedClient,
    },
    /// Every runtime reservation, with those the configuration leaves out.
    List,
}

impl ReservationCommand {
    /// The command on a control line whose first word is `verb`, with its
    /// `key=value` arguments. `None`: not a reservation verb. Errors: a
    /// missing, repeated, unknown or malformed argument, said plainly.
    pub fn parse(verb: &str, args: &[&str]) -> Option<Result<ReservationCommand, String>> {
        let parsed = match verb {
            "reservation-list" if args.is_empty() => Ok(ReservationCommand::List),
            "reservation-list" => Err("reservation-list takes no arguments".into()),
            "reservation-add" => add(args),
            "reservation-del" => Args::new(args, &[]).and_then(|a| {
                Ok(ReservationCommand::Del {
                    client: a.client()?,
                })
            }),
            _ => return None,
        };
        Some(parsed)
    }

    /// The control line for this command (what `parse` reads back).
    pub fn line(&self) -> String {
        let client = |c: &ReservedClient| match c {
            ReservedClient::Mac(m) => format!("mac={}", hex(m)),
            ReservedClient::ClientId(id) => format!("client-id={}", hex(id)),
        };
        match self {
            ReservationCommand::List => "reservation-list".into(),
            ReservationCommand::Del { client: c } => format!("reservation-del {}", client(c)),
            ReservationCommand::Add {
                client: c,
                address,
                hostname,
            } => {
                let name = hostname
                    .as_ref()
                    .map_or(String::new(), |h| format!(" hostname={h}"));
                format!("reservation-add {} address={address}{name}", client(c))
            }
        }
    }
}

fn add(args: &[&str]) -> Result<ReservationCommand, String> {
    let a = Args::new(args, &["address", "hostname"])?;
    let address = a
        .get("address")
        .ok_or("reservation-add needs address=ADDR")?;
    let address = address
        .parse()
        .map_err(|_| format!("address={address} is not an IPv4 address"))?;
    let hostname = a.get("hostname").map(str::to_string);
    if let Some(h) = &hostname
        && !is_host_label(h)
    {
        return Err(format!(
            "hostname={h} is not a host label (1 to 63 letters, digits or '-')"
        ));
    }
    Ok(ReservationCommand::Add {
        client: a.client()?,
        address,
        hostname,
    })
}

/// A control line's `key=value` arguments: `mac` or `client-id` plus `extra`.
struct Args<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Args<'a> {
    fn new(args: &[&'a str], extra: &[&str]) -> Result<Args<'a>, String> {
        let mut out: Vec<(&str, &str)> = vec![];
        for a in args {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| format!("argument {a:?} is not key=value"))?;
            if !["mac", "client-id"].contains(&k) && !extra.contains(&k) {
                return Err(format!("unknown argument {k:?}"));
            }
            if out.iter().any(|(o, _)| *o == k) {
                return Err(format!("{k} given twice"));
            }
            out.push((k, v));
        }
        Ok(Args(out))
    }

    fn get(&self, k: &str) -> Option<&'a str> {
        self.0.iter().find(|(o, _)| *o == k).map(|(_, v)| *v)
    }

    fn client(&self) -> Result<ReservedClient, String> {
        match (self.get("mac"), self.get("client-id")) {
            (Some(m), None) => parse_hex(m)
                .ok()
                .and_then(|b| <[u8; 6]>::try_from(b.as_slice()).ok())
                .map(ReservedClient::Mac)
                .ok_or_else(|| format!("mac={m} is not a MAC address")),
            (None, Some(id)) => match parse_hex(id) {
                Ok(b) if (2..=255).contains(&b.len()) => Ok(ReservedClient::ClientId(b)),
                _ => Err(format!(
                    "client-id={id} is not 2 to 255 hex octets (type octet first)"
                )),
            },
            _ => Err("give exactly one of mac=MAC and client-id=HEX".into()),
        }
    }
}

impl Node {
    /// Carries out a reservation command. `None`: the answer waits for the
    /// journal and comes as `Output::Answer` with `id` once the change is
    /// durable.
    pub(super) fn reservation(
        &mut self,
        now: Time,
        id: u64,
        cmd: ReservationCommand,
    ) -> Option<Value> {
        let entry = match cmd {
            ReservationCommand::List => return Some(self.reservation_list()),
            ReservationCommand::Add {
                client,
                address,
                hostname,
            } => RuntimeEntry {
                client,
                address: Some(address),
                hostname,
                changed: now.0,
            },
            ReservationCommand::Del { client } => RuntimeEntry {
                client,
                address: None,
                hostname: None,
                changed: now.0,
            },
        };
        if let Err(error) = self.may_set(now, &entry) {
            return Some(json!({ "ok": false, "error": error }));
        }
        let entry = self.runtime.set(entry);
        tracing::warn!(client = %entry.client, address = ?entry.address, "runtime reservation changed by the operator");
        let answer = json!({ "ok": true, "reservation": entry_json(&entry) });
        self.runtime_changed(now, Some((id, answer)), true);
        None
    }

    /// Why the operator's change cannot be made, if it cannot.
    fn may_set(&self, now: Time, e: &RuntimeEntry) -> Result<(), String> {
        if let Some(p) = &self.peer {
            p.reservations_may_change()?;
        }
        let known = self.runtime.get(&e.client);
        let Some(addr) = e.address else {
            return match known {
                Some(k) if k.address.is_some() => Ok(()),
                _ => Err(format!(
                    "{} has no runtime reservation (reservations in the configuration file change there)",
                    e.client
                )),
            };
        };
        if known.is_none() && self.runtime.live().count() >= MAX_ENTRIES {
            return Err(format!(
                "{MAX_ENTRIES} runtime reservations are kept at most; move some into the configuration file"
            ));
        }
        if let Some(o) = self
            .runtime
            .live()
            .find(|o| o.client != e.client && o.address == Some(addr))
        {
            return Err(format!(
                "{addr} is reserved at runtime for {}; delete that reservation first",
                o.client
            ));
        }
        let mut trial = self.runtime.clone();
        trial.set(e.clone());
        let (_, shadowed) = self.file_config.with_runtime(&trial);
        if let Some(s) = shadowed.iter().find(|s| s.entry.client == e.client) {
            return Err(s.why.clone());
        }
        match self.store.get(addr) {
            Some(l) if leased_to_other(l, &e.client) => Err(format!(
                "{addr} is leased to another client until {}; reserve it once that lease ends or is released",
                l.expires.max(now).rfc3339()
            )),
            _ => Ok(()),
        }
    }

    /// `reservation-list`: every runtime entry that reserves an address,
    /// with whether the configuration takes it and why not.
    fn reservation_list(&self) -> Value {
        let list: Vec<Value> = self
            .runtime
            .live()
            .map(|e| {
                let mut v = entry_json(e);
                let left_out = self.shadowed.iter().find(|s| s.entry.client == e.client);
                v["applied"] = left_out.is_none().into();
                if let Some(s) = left_out {
                    v["why_not"] = s.why.clone().into();
                }
                v
            })
            .collect();
        json!({ "ok": true, "reservations": list })
    }

    /// Part of the partner's set arrived: what supersedes ours is taken,
    /// kept and applied (not sent back: the partner has it).
    pub(super) fn partner_reservations(&mut self, now: Time, entries: Vec<RuntimeEntry>) {
        if self.runtime.merge(entries) {
            tracing::info!(
                entries = self.runtime.len(),
                "runtime reservations updated from the partner"
            );
            self.runtime_changed(now, None, false);
        }
    }

    /// The set changed: apply it over the file's configuration, keep it
    /// (answering `answer` once durable) and, when `send`, replicate it
    /// once durable too.
    fn runtime_changed(&mut self, now: Time, answer: Option<(u64, Value)>, send: bool) {
        let (config, shadowed) = self.file_config.with_runtime(&self.runtime);
        for s in shadowed.iter().filter(|s| !self.shadowed.contains(s)) {
            tracing::warn!(client = %s.entry.client, address = ?s.entry.address, why = %s.why, "runtime reservation not applied");
        }
        self.shadowed = shadowed;
        self.apply_reservations(Arc::new(config));
        let meta = vec![(META_KEY.to_string(), self.runtime.to_json())];
        let batch = self.commits.submit(&mut self.out, Vec::new(), meta);
        self.commits.after(Waiting {
            batch,
            answers: answer.into_iter().collect(),
            send_reservations: send,
            ..Waiting::default()
        });
        if let Some(p) = &mut self.peer {
            p.set_reservations(now, self.runtime.frames(FRAME_OCTETS), false);
        }
    }

    /// Puts a configuration that differs from the running one only in its
    /// runtime reservations into the engine and the lease store.
    fn apply_reservations(&mut self, config: Arc<Config>) {
        self.engine.reconfigure(config.clone());
        self.store.reconfigure(&config);
        self.config = config;
    }
}

/// Whether `l` binds a client other than `c`. A binding just past its
/// expiry counts until the lease store ends it: the partner may have
/// renewed it a moment ago.
fn leased_to_other(l: &Lease, c: &ReservedClient) -> bool {
    let same = match c {
        ReservedClient::Mac(m) => l.hw.ethernet() == Some(*m),
        ReservedClient::ClientId(id) => l.client_id.as_ref() == Some(id),
    };
    l.state == LeaseState::Active && !same
}

/// An entry as `reservation-list` and the answers show it.
pub(super) fn entry_json(e: &RuntimeEntry) -> Value {
    let (kind, id) = match &e.client {
        ReservedClient::Mac(m) => ("mac", hex(m)),
        ReservedClient::ClientId(id) => ("client_id", hex(id)),
    };
    let mut v = json!({
        kind: id,
        "address": e.address.map(|a| a.to_string()),
        "changed": e.changed,
    });
    if let Some(h) = &e.hostname {
        v["hostname"] = h.clone().into();
    }
    v
}

/// The left-out entries for a reload's answer.
pub(super) fn left_out_json(shadowed: &[Shadowed]) -> Vec<Value> {
    shadowed
        .iter()
        .map(|s| {
            let mut v = entry_json(&s.entry);
            v["why_not"] = s.why.clone().into();
            v
        })
        .collect()
}

#[cfg(test)]
mod tests;
