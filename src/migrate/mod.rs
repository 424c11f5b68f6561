//! Moving onto tandem from ISC dhcpd (`tandem import-isc`): its lease file
//! read as dhcpd reads it, then turned into tandem's lease records, and its
//! dhcpd.conf translated into tandem.toml. Pure functions over text; the
//! command line reads and writes the files.

pub mod import;
pub mod isc_conf;
pub mod isc_leases;
pub mod lexer;
pub mod statements;
