//! Reading the lease table back: each row checked and turned into a
//! `Lease`; a row that cannot be one is reported with its address, never
//! guessed.

use super::StoreError;
use crate::lease::DnsRecords;
use crate::lease::model::{Lease, LeaseState, Owner};
use crate::proto::HwAddr;
use crate::time::Time;
use rusqlite::{Connection, Row};
use std::net::Ipv4Addr;
use std::path::Path;

/// One row as stored, before it is checked.
struct Stored {
    addr: u32,
    state: i64,
    owner: i64,
    client_id: Option<Vec<u8>>,
    htype: u8,
    chaddr: Vec<u8>,
    hostname: Option<String>,
    relay_info: Option<Vec<u8>>,
    /// starts, expires, cltt, potential expiry, acknowledged potential expiry.
    times: [i64; 5],
    lease_time: u32,
    seq: i64,
    dns: Option<String>,
}

const SELECT: &str = "SELECT address, state, owner, client_id, htype, chaddr, hostname, relay_info,
     starts, expires, cltt, lease_time, potential_expiry, acked_potential_expiry, update_seq, dns
     FROM lease ORDER BY address";

/// The same from a schema-1 database (no `dns` column), which a read-only
/// reader (`tandem leases`) may meet before a server has migrated it.
const SELECT_1: &str =
    "SELECT address, state, owner, client_id, htype, chaddr, hostname, relay_info,
     starts, expires, cltt, lease_time, potential_expiry, acked_potential_expiry, update_seq, NULL
     FROM lease ORDER BY address";

/// The `dns` column's text for `d` (JSON).
pub(super) fn dns_text(d: &DnsRecords) -> String {
    serde_json::to_string(d).expect("DNS records serialize")
}

impl Stored {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Stored> {
        Ok(Stored {
            addr: r.get(0)?,
            state: r.get(1)?,
            owner: r.get(2)?,
            client_id: r.get(3)?,
            htype: r.get(4)?,
            chaddr: r.get(5)?,
            hostname: r.get(6)?,
            relay_info: r.get(7)?,
            times: [r.get(8)?, r.get(9)?, r.get(10)?, r.get(12)?, r.get(13)?],
            lease_time: r.get(11)?,
            seq: r.get(14)?,
            dns: r.get(15)?,
        })
    }

    /// The lease, or what is wrong with the row. Errors:
    /// `StoreError::Corrupt` naming the address.
    fn check(self, path: &Path) -> Result<Lease, StoreError> {
        let addr = Ipv4Addr::from(self.addr);
        let corrupt = |what: &str| StoreError::Corrupt {
            path: path.to_path_buf(),
            addr,
            what: what.into(),
        };
        let state = LeaseState::from_code(self.state).ok_or_else(|| corrupt("unknown state"))?;
        let owner = Owner::from_code(self.owner).ok_or_else(|| corrupt("unknown owner"))?;
        let t = self.times;
        if self.chaddr.len() > 16 || t.iter().any(|x| *x < 0) || self.seq < 0 {
            return Err(corrupt("hardware address or time out of range"));
        }
        let dns = match self.dns.as_deref().map(DnsRecords::from_json) {
            None => None,
            Some(Ok(d)) if crate::ddns::valid_records(&d) => Some(Box::new(d)),
            Some(_) => return Err(corrupt("DNS records unreadable")),
        };
        Ok(Lease {
            addr,
            state,
            owner,
            client_id: self.client_id,
            hw: HwAddr::new(self.htype, &self.chaddr),
            hostname: self.hostname,
            relay_info: self.relay_info,
            starts: Time(t[0] as u64),
            expires: Time(t[1] as u64),
            cltt: Time(t[2] as u64),
            lease_time: self.lease_time,
            potential_expiry: Time(t[3] as u64),
            acked_potential_expiry: Time(t[4] as u64),
            update_seq: self.seq as u64,
            dns,
        })
    }
}

/// Every lease in the table, in address order. Errors: SQLite failures,
/// and the first corrupt row.
pub(super) fn read(c: &Connection, path: &Path) -> Result<Vec<Lease>, StoreError> {
    let err = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let version: i64 = c
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    let mut st = c
        .prepare(if version == 1 { SELECT_1 } else { SELECT })
        .map_err(err)?;
    let rows = st.query_map([], Stored::from_row).map_err(err)?;
    rows.map(|r| r.map_err(err)?.check(path)).collect()
}
