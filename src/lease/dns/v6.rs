//! The DNS side of a binding as peer protocols 6 and 7 carry it, and as
//! databases written before protocol 8 hold it (JSON): one stale name at
//! most, without its registration's tag or a removed mark. Converted both
//! ways so that a pair is upgraded one peer at a time and an older
//! database still opens.

use super::{DnsRecords, DnsStatus, StaleName};
use serde::{Deserialize, Serialize};

/// A stale name in the older form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleNameV6 {
    /// As in `StaleName`.
    pub fqdn: String,
    /// As in `StaleName`.
    pub dhcid: Vec<u8>,
    /// As in `StaleName`.
    #[serde(default = "kept_forward")]
    pub forward: bool,
    /// As in `StaleName`.
    #[serde(default)]
    pub reverse: bool,
}

fn kept_forward() -> bool {
    true
}

/// `DnsRecords` in the older form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecordsV6 {
    /// As in `DnsRecords`.
    pub fqdn: String,
    /// As in `DnsRecords`.
    pub forward: bool,
    /// As in `DnsRecords`.
    pub reverse: bool,
    /// As in `DnsRecords`.
    pub tag: u64,
    /// As in `DnsRecords`.
    pub status: DnsStatus,
    /// The one stale name the older form holds.
    pub stale: Option<StaleNameV6>,
}

impl From<&DnsRecords> for DnsRecordsV6 {
    /// The older form keeps the first stale name still due: an older
    /// partner removes that one, and this side the rest.
    fn from(d: &DnsRecords) -> DnsRecordsV6 {
        DnsRecordsV6 {
            fqdn: d.fqdn.clone(),
            forward: d.forward,
            reverse: d.reverse,
            tag: d.tag,
            status: d.status,
            stale: d.pending_stale().next().map(|s| StaleNameV6 {
                fqdn: s.fqdn.clone(),
                dhcid: s.dhcid.clone(),
                forward: s.forward,
                reverse: s.reverse,
            }),
        }
    }
}

impl From<DnsRecordsV6> for DnsRecords {
    /// The stale name, if any, as one still due, from an unknown
    /// registration (tag 0).
    fn from(d: DnsRecordsV6) -> DnsRecords {
        DnsRecords {
            fqdn: d.fqdn,
            forward: d.forward,
            reverse: d.reverse,
            tag: d.tag,
            status: d.status,
            stale: d
                .stale
                .into_iter()
                .map(|s| StaleName {
                    fqdn: s.fqdn,
                    dhcid: s.dhcid,
                    forward: s.forward,
                    reverse: s.reverse,
                    tag: 0,
                    done: false,
                    adds: 0,
                })
                .collect(),
            adds: 0,
        }
    }
}

impl DnsRecords {
    /// Reads the `dns` column's JSON, in this form or the older one.
    /// Errors: neither form.
    pub fn from_json(text: &str) -> Result<DnsRecords, serde_json::Error> {
        serde_json::from_str::<DnsRecords>(text)
            .or_else(|_| serde_json::from_str::<DnsRecordsV6>(text).map(DnsRecords::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_row_of_the_older_form_still_reads() {
        let old = r#"{"fqdn":"pc1.campus.example","forward":true,"reverse":true,"tag":512,
            "status":"Pending","stale":{"fqdn":"old.campus.example","dhcid":[1,2,3]}}"#;
        let d = DnsRecords::from_json(old).unwrap();
        assert_eq!(d.stale.len(), 1);
        let s = &d.stale[0];
        assert_eq!(s.fqdn, "old.campus.example");
        assert!(s.forward && !s.reverse && !s.done);
        let none = old.replace(r#"{"fqdn":"old.campus.example","dhcid":[1,2,3]}"#, "null");
        assert!(DnsRecords::from_json(&none).unwrap().stale.is_empty());
        assert!(DnsRecords::from_json("{\"fqdn\":1}").is_err());
    }

    #[test]
    fn the_older_form_carries_the_first_name_still_due() {
        let s = |fqdn: &str, done| StaleName {
            fqdn: fqdn.into(),
            dhcid: vec![9],
            forward: true,
            reverse: false,
            tag: 3,
            done,
            adds: 0,
        };
        let d = DnsRecords {
            fqdn: "pc1.campus.example".into(),
            forward: true,
            reverse: false,
            tag: 7,
            status: DnsStatus::Added,
            stale: vec![s("gone.example", true), s("due.example", false)],
            adds: 1,
        };
        let v6 = DnsRecordsV6::from(&d);
        assert_eq!(
            v6.stale.as_ref().map(|s| s.fqdn.as_str()),
            Some("due.example")
        );
        let back = DnsRecords::from(v6);
        assert_eq!(back.stale.len(), 1);
        assert_eq!((back.stale[0].tag, back.stale[0].done), (0, false));
        assert_eq!(back.fqdn, d.fqdn);
    }
}
