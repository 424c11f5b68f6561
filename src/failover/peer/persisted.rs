//! The peer's state that survives a restart, kept in the database's meta
//! table and written in the same transactions as the leases it concerns.

use crate::failover::state::State;
use crate::time::Time;
use std::collections::HashMap;

/// What a peer keeps across restarts, in the database's meta table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persisted {
    /// The state this server was last in, from which the next start resumes;
    /// `None` before any was saved.
    pub state: Option<State>,
    /// When that state was entered.
    pub state_since: Time,
    /// The partner database we are in step with (its epoch).
    pub partner_epoch: Option<u64>,
    /// Highest partner sequence number committed here.
    pub received_seq: u64,
    /// Highest local sequence number the partner has acknowledged.
    pub acked_seq: u64,
    /// When this server entered PARTNER-DOWN; cleared on reaching NORMAL. Partner
    /// addresses become ours MCLT after it.
    pub partner_down_since: Option<Time>,
    /// When RECOVER-WAIT may end: MCLT after entering RECOVER with a lost database,
    /// at once otherwise; cleared on reaching NORMAL.
    pub recover_until: Option<Time>,
    /// When this server last entered RECOVER (until it reaches NORMAL).
    pub recover_since: Option<Time>,
    /// The last PARTNER-DOWN or RECOVER episode (entered, left): bindings last
    /// changed before it ended keep the MCLT reuse rule. After PARTNER-DOWN,
    /// acknowledgements from a partner that lost its database prove nothing;
    /// after RECOVER from a lost database, the partner's copy of a binding may
    /// predate an extension (of up to MCLT) this server granted and forgot;
    /// after meeting a partner database new to us, the same holds for what
    /// the partner granted and forgot. Both bounds only grow.
    pub guard: Option<(Time, Time)>,
    /// The partner database the guard was last widened for (its epoch):
    /// meeting it again before its full copy arrived widens nothing more.
    pub guard_epoch: Option<u64>,
    /// The latest time this server was known to run (a heartbeat a
    /// minute, and every commit of peer state): after a restart, since
    /// when it may have been down (`PairPolicy::own_at_risk`).
    pub alive_at: Option<Time>,
}

impl Persisted {
    /// The meta table entries ("fo_*" keys, decimal seconds; "" for none), written in
    /// the same transaction as the leases they concern.
    pub fn to_meta(&self) -> Vec<(String, String)> {
        let opt = |v: Option<u64>| v.map_or_else(String::new, |x| x.to_string());
        vec![
            (
                "fo_state".into(),
                self.state.map_or("", |s| s.as_str()).into(),
            ),
            ("fo_state_since".into(), self.state_since.0.to_string()),
            ("fo_partner_epoch".into(), opt(self.partner_epoch)),
            ("fo_received_seq".into(), self.received_seq.to_string()),
            ("fo_acked_seq".into(), self.acked_seq.to_string()),
            (
                "fo_partner_down_since".into(),
                opt(self.partner_down_since.map(|t| t.0)),
            ),
            (
                "fo_recover_until".into(),
                opt(self.recover_until.map(|t| t.0)),
            ),
            (
                "fo_recover_since".into(),
                opt(self.recover_since.map(|t| t.0)),
            ),
            ("fo_guard_from".into(), opt(self.guard.map(|g| g.0.0))),
            ("fo_guard_until".into(), opt(self.guard.map(|g| g.1.0))),
            ("fo_guard_epoch".into(), opt(self.guard_epoch)),
            ("fo_alive_at".into(), opt(self.alive_at.map(|t| t.0))),
        ]
    }

    /// Reads the entries `to_meta` wrote; a missing or unreadable value takes its default.
    pub fn from_meta(m: &HashMap<String, String>) -> Persisted {
        let num = |k: &str| m.get(k).and_then(|v| v.parse::<u64>().ok());
        Persisted {
            state: m.get("fo_state").and_then(|s| State::parse(s)),
            state_since: Time(num("fo_state_since").unwrap_or(0)),
            partner_epoch: num("fo_partner_epoch"),
            received_seq: num("fo_received_seq").unwrap_or(0),
            acked_seq: num("fo_acked_seq").unwrap_or(0),
            partner_down_since: num("fo_partner_down_since").map(Time),
            recover_until: num("fo_recover_until").map(Time),
            recover_since: num("fo_recover_since").map(Time),
            guard: num("fo_guard_from")
                .zip(num("fo_guard_until"))
                .map(|(a, b)| (Time(a), Time(b))),
            guard_epoch: num("fo_guard_epoch"),
            alive_at: num("fo_alive_at").map(Time),
        }
    }
}
