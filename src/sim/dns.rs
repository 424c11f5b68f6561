//! The simulated DNS server both servers of the ddns family update: names
//! with their A record and DHCID, and PTR records, following RFC 2136
//! prerequisites as the real `ddns::Exchange` steps ask for them, so the
//! node's DNS work runs end to end (jobs, status journaled and replicated,
//! takeover in PARTNER-DOWN) under the random faults.

use crate::ddns::{DnsJob, Exchange, Step};
use crate::lease::DnsStatus;
use hickory_proto::op::ResponseCode;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// A name's records.
#[derive(Clone, Debug, Default)]
struct Entry {
    a: Option<Ipv4Addr>,
    dhcid: Option<Vec<u8>>,
}

/// The zone: names and PTR records, and how many changes were applied.
#[derive(Debug, Default)]
pub struct Zone {
    names: BTreeMap<String, Entry>,
    ptr: BTreeMap<Ipv4Addr, String>,
    /// Records added (A or PTR) so far.
    pub added: u64,
    /// Records removed so far.
    pub removed: u64,
}

impl Zone {
    /// Runs `job` to its end against this zone; where the records stand.
    pub fn run(&mut self, job: DnsJob, config: &crate::config::DdnsConfig) -> DnsStatus {
        let mut x = Exchange::new(job, config);
        while let Some(step) = x.step() {
            let stale = x.stale_name().map(|s| (s.fqdn.clone(), s.dhcid.clone()));
            let rcode = self.apply(step, x.job(), stale);
            if x.answered(rcode).is_err() {
                break;
            }
        }
        x.result()
    }

    /// Applies `step` of `j` (`stale`: the stale name and DHCID a stale
    /// step is at).
    fn apply(&mut self, step: Step, j: &DnsJob, stale: Option<(String, Vec<u8>)>) -> ResponseCode {
        let stale = || stale.clone().expect("a stale step names its stale name");
        match step {
            Step::RemoveStaleA => {
                let (name, dhcid) = stale();
                self.remove_a(&name, &dhcid, j.addr)
            }
            Step::RemoveStaleDhcid => {
                let (name, dhcid) = stale();
                self.remove_dhcid(&name, &dhcid)
            }
            Step::RemoveStalePtr => {
                self.remove_ptr(j.addr, &stale().0);
                ResponseCode::NoError
            }
            Step::AddForward => {
                if self.names.contains_key(&j.fqdn) {
                    return ResponseCode::YXDomain;
                }
                self.added += 1;
                let e = Entry {
                    a: Some(j.addr),
                    dhcid: Some(j.dhcid.clone()),
                };
                self.names.insert(j.fqdn.clone(), e);
                ResponseCode::NoError
            }
            Step::ReplaceForward => match self.names.get_mut(&j.fqdn) {
                Some(e) if e.dhcid.as_ref() == Some(&j.dhcid) => {
                    e.a = Some(j.addr);
                    self.added += 1;
                    ResponseCode::NoError
                }
                _ => ResponseCode::NXRRSet,
            },
            Step::AddReverse => {
                self.ptr.insert(j.addr, j.fqdn.clone());
                self.added += 1;
                ResponseCode::NoError
            }
            Step::RemoveA => self.remove_a(&j.fqdn, &j.dhcid, j.addr),
            Step::RemoveDhcid => self.remove_dhcid(&j.fqdn, &j.dhcid),
            Step::RemoveReverse => {
                self.remove_ptr(j.addr, &j.fqdn);
                ResponseCode::NoError
            }
        }
    }

    /// Deletes the PTR record of `addr` naming `name`, if it is there.
    fn remove_ptr(&mut self, addr: Ipv4Addr, name: &str) {
        if self.ptr.get(&addr).is_some_and(|n| n == name) {
            self.ptr.remove(&addr);
            self.removed += 1;
        }
    }

    fn remove_a(&mut self, name: &str, dhcid: &[u8], addr: Ipv4Addr) -> ResponseCode {
        match self.names.get_mut(name) {
            Some(e) if e.dhcid.as_deref() == Some(dhcid) => {
                if e.a == Some(addr) {
                    e.a = None;
                    self.removed += 1;
                }
                ResponseCode::NoError
            }
            _ => ResponseCode::NXRRSet,
        }
    }

    fn remove_dhcid(&mut self, name: &str, dhcid: &[u8]) -> ResponseCode {
        match self.names.get(name) {
            Some(e) if e.dhcid.as_deref() == Some(dhcid) && e.a.is_none() => {
                self.names.remove(name);
                ResponseCode::NoError
            }
            _ => ResponseCode::NXRRSet,
        }
    }

    /// Every A record: (name, address, DHCID).
    pub fn a_records(&self) -> impl Iterator<Item = (&str, Ipv4Addr, &[u8])> {
        self.names
            .iter()
            .filter_map(|(n, e)| Some((n.as_str(), e.a?, e.dhcid.as_deref().unwrap_or(&[]))))
    }

    /// Every PTR record: (address, name).
    pub fn ptr_records(&self) -> impl Iterator<Item = (Ipv4Addr, &str)> {
        self.ptr.iter().map(|(a, n)| (*a, n.as_str()))
    }

    /// The A record and DHCID of `name`.
    pub fn a_of(&self, name: &str) -> Option<(Ipv4Addr, &[u8])> {
        let e = self.names.get(name)?;
        Some((e.a?, e.dhcid.as_deref()?))
    }
}
