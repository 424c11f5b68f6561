//! Deterministic fault simulation of a pair (DESIGN.md section 5): the real
//! engine, store and peer state machine of two servers, simulated clients, a
//! simulated client network and peer link, disks that lose uncommitted work,
//! and a seeded schedule of faults on a virtual clock. Invariants are checked
//! after every step; a violation names the seed and step, and `replay`
//! prints the whole trace of that seed.

pub(crate) mod client;
mod dns;
mod holders;
pub mod isc;
mod node;
mod rng;
mod world;

pub use world::{Family, Options, Reached, Summary, Violation, run};

/// Whether a host squats on `addr` without a lease (the squatters family:
/// two of the simulated pool's addresses); it answers pings.
pub fn squatted(addr: std::net::Ipv4Addr) -> bool {
    matches!(addr.octets(), [10, 0, 0, 12 | 19])
}
