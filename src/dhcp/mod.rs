//! The DHCP decisions, free of I/O. `Engine::handle` takes a parsed request,
//! where it arrived, the time, the lease store and the failover policy, and
//! returns the reply to send (with its route) and the lease changes to journal.
//!
//! The steps are kept apart so later features slot into one each: select the
//! link and subnet (`select`), sort the client into its classes
//! (`classify`), choose the address (`allocate`), decide the lease time
//! (`times`), assemble options (`assemble`), route the reply (`route`).

mod allocate;
mod assemble;
pub mod classify;
mod engine;
mod minor;
mod names;
mod outcome;
mod policy;
mod replies;
mod request;
mod route;
mod select;
mod sighting;
mod times;

pub use engine::Engine;
pub use outcome::{Outcome, RecvContext, Reply, Verdict};
pub use policy::{Policy, REUSE_GRACE, Standalone, ended_for_client};
pub use route::ReplyRoute;
pub use sighting::Sighting;

#[cfg(test)]
mod tests;
