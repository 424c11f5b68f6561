//! Runtime reservations on the peer link (protocol 7): the node's set goes
//! to the partner at connect and after each operator change, in frames of
//! bounded size; the partner's, checked, goes to the node
//! (`Action::Reservations`), which keeps what supersedes its own
//! (`config::runtime`).

use super::*;
use crate::config::runtime::{MAX_ENTRIES, RuntimeEntry};
use crate::failover::message::RESERVATIONS_VERSION;

impl Peer {
    /// The node's runtime reservations changed (or were read at start), as
    /// frames (`RuntimeReservations::frames`): kept for the next
    /// connection, and with `send` given to a connected partner now.
    pub fn set_reservations(&mut self, now: Time, frames: Vec<Vec<RuntimeEntry>>, send: bool) {
        self.reservations = frames;
        if send {
            self.send_reservations(now);
        }
    }

    /// Sends our set to a connected partner that speaks protocol 7.
    pub(super) fn send_reservations(&mut self, now: Time) {
        if self.speaks_reservations() && self.link.is_some() {
            for entries in self.reservations.clone() {
                self.send(now, Message::Reservations { entries });
            }
        }
    }

    fn speaks_reservations(&self) -> bool {
        !self.cfg.isc_partner
            && self
                .partner
                .as_ref()
                .is_some_and(|p| p.version >= RESERVATIONS_VERSION)
    }

    /// Whether the partner's protocol leaves runtime reservations out
    /// (connected, speaking 6 or older), for `status`.
    pub(super) fn reservations_unreplicated(&self) -> bool {
        self.partner.is_some() && !self.speaks_reservations()
    }

    /// Whether the operator may change runtime reservations now: with the
    /// partner connected and speaking protocol 7, or judged down
    /// (PARTNER-DOWN, where it serves no one). Apart, each could reserve
    /// one address for a different client and both give it out.
    pub fn reservations_may_change(&self) -> Result<(), String> {
        if self.cfg.isc_partner {
            return Err("the partner is an ISC dhcpd, which keeps no runtime reservations and would give the address to another client: reserve it in both servers' configs (a `host` declaration in dhcpd.conf, outside its failover pools)".into());
        }
        if self.state == State::PartnerDown {
            return Ok(());
        }
        if !self.connected() {
            return Err("the partner is not connected: a reservation made now could clash with one made on the partner; make it once the peers are back in touch, or on this server after `tandem partner-down`".into());
        }
        if !self.speaks_reservations() {
            return Err("the partner speaks a peer protocol older than 7, which does not carry runtime reservations: upgrade it first".into());
        }
        Ok(())
    }

    /// Part of the partner's set arrived. On a link older than protocol 7,
    /// with too many entries or a malformed one, the link is closed (a
    /// partner that means well never sends them).
    pub(super) fn on_reservations(&mut self, now: Time, entries: Vec<RuntimeEntry>) {
        if !self.speaks_reservations() {
            return self.close(
                now,
                "runtime reservations on a link older than protocol 7".into(),
            );
        }
        if entries.len() > MAX_ENTRIES {
            return self.close(
                now,
                format!("partner sent {} runtime reservations", entries.len()),
            );
        }
        if let Some(why) = entries.iter().find_map(|e| e.invalid(now.0)) {
            return self.close(
                now,
                format!("partner sent a runtime reservation with a {why}"),
            );
        }
        self.actions.push_back(Action::Reservations(entries));
    }
}
