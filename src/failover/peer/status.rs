//! The `status --json` view of the peer.

use super::*;

impl Peer {
    /// The status fields of DESIGN.md section 4 (`status --json`).
    pub fn status(&self, now: Time, store: &LeaseStore) -> serde_json::Value {
        let pools: Vec<_> = self
            .cfg
            .pools
            .iter()
            .map(|p| {
                serde_json::json!({
                    "pool": p.0,
                    "free_primary": store.free_count(*p, Owner::Primary),
                    "free_secondary": store.free_count(*p, Owner::Secondary),
                })
            })
            .collect();
        let serving = match self.state.serving() {
            _ if self.blind() && self.state == State::PartnerDown => {
                "renewals only: resumed partner-down after a restart without reaching the partner; run `tandem partner-down` again if it is still down"
            }
            _ if self.blind() => "renewals only: the partner has not been reached since this start",
            crate::failover::state::Serving::Balanced => {
                "its hash share of new clients, and every renewal"
            }
            crate::failover::state::Serving::All => "every client",
            crate::failover::state::Serving::None => "no one",
        };
        serde_json::json!({
            "role": if self.cfg.primary { "primary" } else { "secondary" },
            "state": self.state.as_str(),
            "serving": serving,
            "time_in_state": now.0.saturating_sub(self.since.0),
            "partner_state": self.partner.as_ref().map(|p| p.state.as_str()),
            "partner_name": self.partner.as_ref().map(|p| p.name.clone()),
            "connected": self.connected(),
            "last_contact": self.last_contact.map(|t| t.rfc3339()),
            "clock_offset_ms": self.partner.as_ref().map(|p| p.clock.bounds().middle() * 1000),
            // Where the partner's clock offset surely lies (seconds); its
            // times are converted on the safe side of this range.
            "clock_offset_range_s": self.partner.as_ref().map(|p| {
                let b = p.clock.bounds();
                [b.low, b.high]
            }),
            "unacked_updates": store.unacked(),
            "partner_down_since": self.p.partner_down_since.map(|t| t.rfc3339()),
            "alarm": self.alarm,
            "pools": pools,
        })
    }
}
