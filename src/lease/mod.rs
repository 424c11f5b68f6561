//! Leases: the record (`model`) and its DNS side (`dns`), the in-memory indexes the packet path reads
//! (`store`), the journal's contract (`journal`), the SQLite journal that
//! makes every change durable (`sqlite`), and the lost-database rule
//! (`relearn`).

pub mod dns;
pub mod journal;
pub mod model;
pub mod relearn;
pub mod sqlite;
pub mod store;

pub use dns::{DnsRecords, DnsRecordsV6, DnsStatus, StaleName};
pub use model::{Lease, LeaseState, Owner};
pub use store::LeaseStore;
