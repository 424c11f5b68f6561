//! The simulator's isc family (issue 19): a tandem server paired with a
//! model of ISC dhcpd 4.4.3 over ISC's failover protocol, under faults.
//! tandem is the real node and the real ISC session (`failover::isc`),
//! driven as the server drives them; dhcpd is `dhcpd`, a model of its
//! failover states, lease table, binding updates and client answers read
//! from ISC's source, whose rules for a partner's update are `rules`. The
//! world (`world`) checks that no address is ACKed to two clients at
//! once, that no grant runs past MCLT beyond what the partner stored,
//! that dhcpd never shuts down or exits on what tandem says, and that the
//! two agree in NORMAL once the faults end.

pub mod dhcpd;
pub mod rules;
mod world;

pub use world::run;
