//! tandem: a DHCPv4 server built to run as an active-active failover pair.
//!
//! Every decision is a function of its inputs (the sans-IO core); the edges
//! touch the kernel, the disk and the clock. `docs/ARCHITECTURE.md` walks a
//! packet and a binding update through the modules:
//!
//! - [`node`]: one server's core (engine, lease store, failover peer, commit
//!   ordering) behind `handle(now, Input)` / `poll_output()`.
//! - [`dhcp`]: the DHCP engine (RFC 2131/2132 decisions), sans-IO.
//! - [`failover`]: the failover peer (draft-ietf-dhc-failover-12), its wire
//!   format and conflict rules, sans-IO.
//! - [`lease`]: the lease record, the in-memory store, the journal contract
//!   and its SQLite implementation, the lost-database rule.
//! - [`proto`]: DHCP packet parsing and reply building.
//! - [`config`]: the TOML configuration, validated with line numbers.
//! - [`server`]: the tokio edge that drives the node.
//! - [`net`]: sockets (DHCP per interface, packet socket, peer link).
//! - [`control`]: the local control socket (`tandem status` and friends).
//! - [`sim`]: the deterministic simulator that drives two nodes.
//! - [`cli`]: the `tandem` command line.
//! - [`fuzzing`]: entry points of the fuzz targets.
//! - [`migrate`]: ISC dhcpd's lease file read and turned into tandem's records.
//! - [`keyfile`]: the failover key file at rest (mode checks, `keygen -o`).
//! - [`random`]: randomness from the operating system.
//! - [`time`]: whole-second time and the clock trait.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod control;
pub mod ddns;
pub mod dhcp;
pub mod failover;
pub mod fuzzing;
pub mod keyfile;
pub mod lease;
pub mod migrate;
pub mod net;
pub mod node;
pub mod proto;
pub mod random;
pub mod server;
pub mod sim;
pub mod time;
