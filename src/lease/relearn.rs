//! A lost database is not a new installation (DESIGN.md section 2).
//!
//! A server is initialised once (`tandem init`, or the package). If its
//! database is missing afterwards (a replaced disk, a wrong restore), its
//! clients still hold leases it no longer knows: handing out new addresses
//! would give them to a second client. Such a server re-learns leases from
//! the clients that renew them (RENEW, REBIND, INIT-REBOOT) at once, but
//! gives no new address until the longest lease it can have granted has run
//! out (plus MCLT in a pair, by which a partner may have extended one), or
//! until the operator ends the wait (`tandem end-relearn`). In a pair, a full
//! copy from a partner whose database covers the pair's bindings shortens it
//! to MCLT from then: only leases this server granted unacknowledged before
//! the loss are still unknown, and those ran at most MCLT.
//!
//! The end of the wait lives in the database's meta table under [`META_KEY`],
//! so a restart during it keeps it.

use crate::config::Config;
use crate::time::Time;
use std::collections::HashMap;

/// Meta-table key holding the end of the wait (seconds), empty when none.
pub const META_KEY: &str = "relearn_until";

/// Seconds a server that lost its database waits before new allocations:
/// the longest lease any subnet may grant, plus MCLT with a partner.
pub fn wait(config: &Config) -> u64 {
    let longest = config
        .subnets
        .iter()
        .map(|s| s.lease.max.max(s.lease.default))
        .max()
        .unwrap_or(0);
    longest + config.failover.as_ref().map_or(0, |f| f.mclt)
}

/// The end of the wait recorded in `meta`, if one is running.
pub fn from_meta(meta: &HashMap<String, String>) -> Option<Time> {
    meta.get(META_KEY)
        .and_then(|v| v.parse::<u64>().ok())
        .map(Time)
}

/// The meta row recording `until` (an empty value when the wait is over).
pub fn to_meta(until: Option<Time>) -> (String, String) {
    (
        META_KEY.into(),
        until.map_or_else(String::new, |t| t.0.to_string()),
    )
}
