//! Runtime reservations on the peer link (protocol 7): the node's set goes
//! to the partner at connect and after each operator change; the
//! partner's, checked, goes to the node (`Action::Reservations`), which
//! keeps what supersedes its own (`config::runtime`).

use super::*;
use crate::config::runtime::{MAX_ENTRIES, RuntimeEntry};
use crate::failover::message::RESERVATIONS_VERSION;

impl Peer {
    /// The node's runtime reservations changed (or were read at start):
    /// keep them for the next connection, and with `send` give them to a
    /// connected partner now. A partner speaking protocol 6 or older has no
    /// runtime reservations; `status` says so.
    pub fn set_reservations(&mut self, now: Time, entries: Vec<RuntimeEntry>, send: bool) {
        self.reservations = entries;
        if send {
            self.send_reservations(now);
        }
    }

    /// Sends our set to a connected partner that speaks protocol 7.
    pub(super) fn send_reservations(&mut self, now: Time) {
        let speaks = self
            .partner
            .as_ref()
            .is_some_and(|p| p.version >= RESERVATIONS_VERSION);
        if speaks && self.link.is_some() && !self.reservations.is_empty() {
            let entries = self.reservations.clone();
            self.send(now, Message::Reservations { entries });
        }
    }

    /// Whether the partner's protocol leaves runtime reservations out
    /// (connected, speaking 6 or older), for `status`.
    pub(super) fn reservations_unreplicated(&self) -> bool {
        self.partner
            .as_ref()
            .is_some_and(|p| p.version < RESERVATIONS_VERSION)
    }

    /// The partner's set arrived. Too many entries or a malformed one
    /// closes the link (a partner that means well never sends them).
    pub(super) fn on_reservations(&mut self, now: Time, entries: Vec<RuntimeEntry>) {
        if entries.len() > MAX_ENTRIES {
            return self.close(
                now,
                format!("partner sent {} runtime reservations", entries.len()),
            );
        }
        if let Some(why) = entries.iter().find_map(RuntimeEntry::invalid) {
            return self.close(
                now,
                format!("partner sent a runtime reservation with a {why}"),
            );
        }
        self.actions.push_back(Action::Reservations(entries));
    }
}
