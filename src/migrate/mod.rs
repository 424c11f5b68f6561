//! Moving onto tandem from ISC dhcpd (`tandem import-isc`): its lease file
//! read as dhcpd reads it, then turned into tandem's lease records. Pure
//! functions over text; the command line writes the result.

pub mod import;
pub mod isc_leases;
pub mod lexer;
pub mod statements;
