//! tandem: a DHCPv4 server built to run as an active-active failover pair.
//!
//! The crate is split so that every decision is a pure function of its inputs:
//! `proto` parses and builds packets, `dhcp` decides replies, `lease` keeps the
//! bindings in memory and journals them, `config` turns TOML into typed values.
//! Sockets (`net`), the SQLite writer thread (`lease::sqlite`) and the tokio
//! wiring (`server`) are the only places that touch the outside world.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod control;
pub mod dhcp;
pub mod failover;
pub mod fuzzing;
pub mod lease;
pub mod net;
pub mod node;
pub mod proto;
pub mod random;
pub mod server;
pub mod sim;
pub mod time;
