//! The `status --json` view of the peer, and the figures its metrics export.

use super::*;

/// The peer's gauges at one moment, for the metrics exporter.
#[derive(Clone, Debug)]
pub struct PeerGauges {
    /// This server's state, and since when (local seconds).
    pub state: State,
    /// When it entered `state`.
    pub since: Time,
    /// The partner's state as last heard; `None` while not connected.
    pub partner_state: Option<State>,
    /// An authenticated connection to the partner is up.
    pub connected: bool,
    /// Seconds since the partner was last heard from; `None` if never.
    pub last_contact_age: Option<u64>,
    /// Where the partner's clock offset (partner − us) surely lies, seconds.
    pub clock_offset: Option<OffsetBounds>,
    /// Local changes the partner has not acknowledged yet.
    pub unacked_updates: usize,
    /// Partner-down evidence, with `auto_partner_down` and evidence on.
    pub evidence: Option<EvidenceGauges>,
    /// Automatic partner-down decisions taken since this start.
    pub auto_partner_down: u64,
    /// With a witness: whether it answers, and for how many seconds it
    /// has not heard the partner (`None` before its first report).
    pub witness: Option<(bool, Option<u64>)>,
}

/// Partner-down evidence at one moment (`failover::evidence`).
#[derive(Clone, Debug)]
pub struct EvidenceGauges {
    /// Held requests are being watched now (silent
    /// COMMUNICATIONS-INTERRUPTED, not blind).
    pub collecting: bool,
    /// Distinct clients counted within the window.
    pub counted: u32,
    /// Clients the evidence needs (`clients`).
    pub needed: u32,
}

impl Peer {
    /// The gauges of this peer at `now` (local seconds).
    pub fn gauges(&self, now: Time, store: &LeaseStore) -> PeerGauges {
        PeerGauges {
            state: self.state,
            since: self.since,
            partner_state: self.partner_state(),
            connected: self.connected(),
            last_contact_age: self.last_contact.map(|t| now.0.saturating_sub(t.0)),
            clock_offset: self.partner.as_ref().map(|p| p.clock.bounds()),
            unacked_updates: store.unacked(),
            evidence: self.evidence_gauges(now),
            auto_partner_down: self.auto_decisions,
            witness: self.witness_gauges(now),
        }
    }

    /// The peer protocol version agreed with the partner on the last
    /// connection (`message::agree`); `None` before the first.
    pub fn partner_version(&self) -> Option<u16> {
        self.partner.as_ref().map(|p| p.version)
    }

    /// The status fields of DESIGN.md section 4 (`status --json`) that the
    /// peer knows; the node adds the pools.
    pub fn status(&self, now: Time, store: &LeaseStore) -> serde_json::Value {
        let serving = match self.state.serving() {
            _ if self.state == State::Shutdown && self.leaving_shutdown => {
                "no one: maintenance over, waiting to reach the partner and catch up"
            }
            _ if self.state == State::Shutdown => {
                "no one: in maintenance, the partner serves every client (`tandem maintenance stop` or a restart ends it)"
            }
            _ if self.blind() && self.state == State::PartnerDown => {
                "renewals only: resumed partner-down after a restart or a stall without reaching the partner; run `tandem partner-down` again if it is still down"
            }
            _ if self.blind() => {
                "renewals only: the partner has not been reached since this start (or since a stall, or since both it and the witness were lost)"
            }
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
            "since": self.since.rfc3339(),
            "partner_state": self.partner.as_ref().map(|p| p.state.as_str()),
            "partner_name": self.partner.as_ref().map(|p| p.name.clone()),
            // The peer protocol version the pair agreed on: during a
            // rolling upgrade, the older side's newest.
            "protocol": self.partner.as_ref().map(|p| p.version),
            // A partner speaking protocol 6 or older does not get our
            // runtime reservations (`tandem reservation`).
            "runtime_reservations_replicated": !self.reservations_unreplicated(),
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
            "partner_down_evidence": self.evidence_status(now),
            "witness": self.witness_status(now),
            "alarm": self.alarm(),
        })
    }
}
