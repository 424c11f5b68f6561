//! One DNS job as a sequence of RFC 2136 UPDATE messages, following the
//! RFC 4703 conflict rules: a name is added only if nobody holds it (or it
//! carries our client's DHCID), and removed only while it carries our
//! client's DHCID. Sans-IO: [`Exchange`] says which message to send to
//! which zone and takes the answer's RCODE; the edge does the transport and
//! the TSIG signature (`server::dns`).

use super::dhcid::DHCID_TYPE;
use crate::config::{DdnsConfig, DnsZone};
use crate::lease::{DnsStatus, StaleName};
use hickory_proto::op::{Message, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, NULL, PTR};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use std::net::Ipv4Addr;
use std::str::FromStr;

/// What the node asks of DNS for one binding (`Output::Dns`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsJob {
    /// The leased address.
    pub addr: Ipv4Addr,
    /// The name, fully qualified, lower case, without the trailing dot.
    pub fqdn: String,
    /// The client's DHCID RDATA for `fqdn` (`dhcid::rdata`).
    pub dhcid: Vec<u8>,
    /// TTL of the records added, seconds.
    pub ttl: u32,
    /// The server keeps the A and DHCID records.
    pub forward: bool,
    /// The server keeps the PTR record.
    pub reverse: bool,
    /// Other names' records to remove first, in order.
    pub stale: Vec<StaleName>,
    /// Remove the records (the binding ended) rather than add them.
    pub remove: bool,
}

/// One UPDATE of a job (RFC 4703 sections 5.3 to 5.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Delete the stale name's A record for our address, if its DHCID is ours.
    RemoveStaleA,
    /// Delete the stale name's DHCID if no address record is left.
    RemoveStaleDhcid,
    /// Delete the address's PTR record naming the stale name, when the job
    /// adds no PTR of its own to replace it.
    RemoveStalePtr,
    /// Add A and DHCID if the name is not in use (section 5.3.1).
    AddForward,
    /// Replace the A record if the DHCID is ours (section 5.3.2).
    ReplaceForward,
    /// Replace the PTR record (section 5.4).
    AddReverse,
    /// Delete our A record if the DHCID is ours (section 5.5).
    RemoveA,
    /// Delete the DHCID once no address record is left (section 5.5).
    RemoveDhcid,
    /// Delete the PTR record naming us.
    RemoveReverse,
}

/// Why a job stopped before its end; the node tries it again later.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The server answered with an error RCODE (not a prerequisite failure).
    #[error("{step:?} refused by {zone}: {rcode}")]
    Refused {
        /// The step refused.
        step: Step,
        /// The zone updated.
        zone: String,
        /// The server's RCODE.
        rcode: String,
    },
    /// No answer, or one that could not be read or authenticated.
    #[error("{0}")]
    Transport(String),
}

/// A job in progress: the zones it updates and the step it is at.
#[derive(Clone, Debug)]
pub struct Exchange {
    job: DnsJob,
    forward: Option<DnsZone>,
    reverse: Option<DnsZone>,
    /// Per stale name of the job: the zone of its forward records (if
    /// the server kept them) and of the address's PTR (if it did).
    stale: Vec<(Option<DnsZone>, Option<DnsZone>)>,
    /// The stale name the stale steps are at.
    at: usize,
    /// The job's own PTR replaces the address's PTR, the stale ones with it.
    replaces_ptr: bool,
    step: Option<Step>,
    result: DnsStatus,
}

impl Exchange {
    /// Starts `job` with the zones of `config`. A name or address no
    /// configured zone holds is not updated (validation warns of a suffix
    /// outside every zone).
    pub fn new(job: DnsJob, config: &DdnsConfig) -> Exchange {
        let forward = job.forward.then(|| config.zone_for(&job.fqdn)).flatten();
        let reverse = job
            .reverse
            .then(|| config.zone_for(&reverse_name(job.addr)))
            .flatten();
        let ptr_zone = config.zone_for(&reverse_name(job.addr));
        let stale = job
            .stale
            .iter()
            .map(|s| {
                let f = s.forward.then(|| config.zone_for(&s.fqdn)).flatten();
                (f.cloned(), ptr_zone.filter(|_| s.reverse).cloned())
            })
            .collect();
        // An add's own PTR replaces the address's PTR whatever it names
        // (unless the name is another client's: `Conflict`); a removal
        // deletes only the PTR naming its own name.
        let replaces_ptr = reverse.is_some() && !job.remove;
        let mut x = Exchange {
            forward: forward.cloned(),
            reverse: reverse.cloned(),
            stale,
            at: 0,
            replaces_ptr,
            step: None,
            result: DnsStatus::Pending,
            job,
        };
        // Stale names go first, on an add or a removal alike.
        x.step = x.stale_from(0).or_else(|| x.own_start());
        x
    }

    /// The stale name the current step removes, if it is a stale step.
    pub fn stale_name(&self) -> Option<&StaleName> {
        let stale = matches!(
            self.step?,
            Step::RemoveStaleA | Step::RemoveStaleDhcid | Step::RemoveStalePtr
        );
        self.job.stale.get(self.at).filter(|_| stale)
    }

    /// The step the exchange is at; `None` once it is over.
    pub fn step(&self) -> Option<Step> {
        self.step
    }

    /// The job.
    pub fn job(&self) -> &DnsJob {
        &self.job
    }

    /// The UPDATE to send next and the zone (with its servers and key) to
    /// send it to; `None` once the job is over ([`Exchange::result`]).
    pub fn next(&self) -> Option<(Message, &DnsZone)> {
        let step = self.step?;
        let zone = self.zone_of(step)?;
        Some((self.message(step, zone), zone))
    }

    /// Where the records stand once the job is over: `Added`, `Conflict`
    /// or `Removed`.
    pub fn result(&self) -> DnsStatus {
        self.result
    }

    /// Takes the answer to the current step. Errors: an error RCODE (the
    /// job stops; the node retries it later).
    pub fn answered(&mut self, rcode: ResponseCode) -> Result<(), DnsError> {
        let Some(step) = self.step else {
            return Ok(());
        };
        let prerequisite_failed = matches!(
            rcode,
            ResponseCode::YXDomain
                | ResponseCode::YXRRSet
                | ResponseCode::NXRRSet
                | ResponseCode::NXDomain
        );
        if rcode != ResponseCode::NoError && !prerequisite_failed {
            return Err(DnsError::Refused {
                step,
                zone: self
                    .zone_of(step)
                    .map_or_else(String::new, |z| z.name.clone()),
                rcode: rcode.to_string(),
            });
        }
        self.step = match (step, prerequisite_failed) {
            (Step::RemoveStaleA, false) => Some(Step::RemoveStaleDhcid),
            (Step::AddForward, true) => Some(Step::ReplaceForward),
            (Step::ReplaceForward, true) => {
                // No PTR of ours either: the stale ones go alone.
                self.result = DnsStatus::Conflict;
                self.stale_from(0)
            }
            (Step::RemoveStalePtr, _) if self.result == DnsStatus::Conflict => {
                self.stale_from(self.at + 1)
            }
            (Step::RemoveA, false) => Some(Step::RemoveDhcid),
            (s, _) => self.after(Some(s)),
        };
        Ok(())
    }

    /// The step after `done` on the job's path (`None`: the start of a
    /// removal), skipping steps without a zone; sets the result at the end.
    fn after(&mut self, done: Option<Step>) -> Option<Step> {
        let (f, r) = (self.forward.is_some(), self.reverse.is_some());
        match done {
            None if f => Some(Step::RemoveA),
            None | Some(Step::RemoveA | Step::RemoveDhcid) if r => Some(Step::RemoveReverse),
            None | Some(Step::RemoveA | Step::RemoveDhcid | Step::RemoveReverse) => {
                self.result = DnsStatus::Removed;
                None
            }
            Some(Step::RemoveStaleA | Step::RemoveStaleDhcid) if self.stale_ptr_due(self.at) => {
                Some(Step::RemoveStalePtr)
            }
            Some(Step::RemoveStaleA | Step::RemoveStaleDhcid | Step::RemoveStalePtr) => {
                self.stale_from(self.at + 1).or_else(|| self.own_start())
            }
            Some(Step::AddForward | Step::ReplaceForward) if r => Some(Step::AddReverse),
            Some(_) => {
                self.result = DnsStatus::Added;
                None
            }
        }
    }

    /// The first step on the job's own records, once the stale names are
    /// done with.
    fn own_start(&mut self) -> Option<Step> {
        if self.job.remove {
            return self.after(None);
        }
        if self.forward.is_some() {
            Some(Step::AddForward)
        } else if self.reverse.is_some() {
            Some(Step::AddReverse)
        } else {
            self.result = DnsStatus::Added;
            None
        }
    }

    /// The first step on the stale names from the `from`th on (moving
    /// `at` there); after a conflict (no PTR of ours replaces theirs),
    /// only their PTRs.
    fn stale_from(&mut self, from: usize) -> Option<Step> {
        let conflict = self.result == DnsStatus::Conflict;
        for i in from..self.stale.len() {
            self.at = i;
            if !conflict && self.stale[i].0.is_some() {
                return Some(Step::RemoveStaleA);
            }
            if self.stale[i].1.is_some() && (conflict || !self.replaces_ptr) {
                return Some(Step::RemoveStalePtr);
            }
        }
        None
    }

    /// Whether the `i`th stale name's PTR is removed on its own (the job
    /// adds no PTR of its own that replaces it).
    fn stale_ptr_due(&self, i: usize) -> bool {
        self.stale.get(i).is_some_and(|z| z.1.is_some()) && !self.replaces_ptr
    }

    fn zone_of(&self, step: Step) -> Option<&DnsZone> {
        let stale = self.stale.get(self.at);
        match step {
            Step::RemoveStaleA | Step::RemoveStaleDhcid => stale.and_then(|z| z.0.as_ref()),
            Step::RemoveStalePtr => stale.and_then(|z| z.1.as_ref()),
            Step::AddReverse | Step::RemoveReverse => self.reverse.as_ref(),
            _ => self.forward.as_ref(),
        }
    }

    /// The UPDATE message of `step` for `zone` (id 0: the edge numbers it).
    fn message(&self, step: Step, zone: &DnsZone) -> Message {
        let j = &self.job;
        let rev = name(&reverse_name(j.addr));
        let a = RData::A(A(j.addr));
        let (pre, upd) = match (step, self.stale_name()) {
            (Step::RemoveStaleA | Step::RemoveStaleDhcid | Step::RemoveStalePtr, Some(s)) => {
                stale_removal(step, &name(&s.fqdn), &s.dhcid, &a, &rev)
            }
            _ => own_records(step, j, &name(&j.fqdn), &a, &rev),
        };
        update(&name(&zone.name), pre, upd)
    }
}

/// `s` as an absolute DNS name (the root if it cannot be one: validation
/// and sanitising keep such names out).
fn name(s: &str) -> Name {
    Name::from_str(&format!("{s}.")).unwrap_or_else(|_| Name::root())
}

/// The prerequisites and updates of `step` on the job's own name `fqdn`
/// and the address's PTR name `rev` (RFC 4703 sections 5.3 to 5.5).
fn own_records(
    step: Step,
    j: &DnsJob,
    fqdn: &Name,
    a: &RData,
    rev: &Name,
) -> (Vec<Record>, Vec<Record>) {
    let ours = rr(fqdn, DNSClass::IN, 0, dhcid(&j.dhcid));
    let ptr = RData::PTR(PTR(fqdn.clone()));
    match step {
        Step::AddForward => (
            vec![empty(fqdn, DNSClass::NONE, RecordType::ANY)],
            vec![
                rr(fqdn, DNSClass::IN, j.ttl, a.clone()),
                rr(fqdn, DNSClass::IN, j.ttl, dhcid(&j.dhcid)),
            ],
        ),
        Step::ReplaceForward => (
            vec![ours],
            vec![
                empty(fqdn, DNSClass::ANY, RecordType::A),
                rr(fqdn, DNSClass::IN, j.ttl, a.clone()),
            ],
        ),
        Step::AddReverse => (
            vec![],
            vec![
                empty(rev, DNSClass::ANY, RecordType::PTR),
                rr(rev, DNSClass::IN, j.ttl, ptr),
            ],
        ),
        Step::RemoveA => (vec![ours], vec![rr(fqdn, DNSClass::NONE, 0, a.clone())]),
        Step::RemoveReverse => (vec![], vec![rr(rev, DNSClass::NONE, 0, ptr)]),
        _ => dhcid_removal(fqdn, &j.dhcid),
    }
}

/// The prerequisites and updates removing a stale name's records: its A
/// record for our address and its DHCID while the DHCID is `d`, and the
/// address's PTR naming it.
fn stale_removal(
    step: Step,
    stale: &Name,
    d: &[u8],
    a: &RData,
    rev: &Name,
) -> (Vec<Record>, Vec<Record>) {
    match step {
        Step::RemoveStaleA => (
            vec![rr(stale, DNSClass::IN, 0, dhcid(d))],
            vec![rr(stale, DNSClass::NONE, 0, a.clone())],
        ),
        Step::RemoveStalePtr => {
            let ptr = RData::PTR(PTR(stale.clone()));
            (vec![], vec![rr(rev, DNSClass::NONE, 0, ptr)])
        }
        _ => dhcid_removal(stale, d),
    }
}

/// Deleting `name`'s DHCID once no address record is left, while it is
/// `d` (RFC 4703 section 5.5).
fn dhcid_removal(name: &Name, d: &[u8]) -> (Vec<Record>, Vec<Record>) {
    (
        vec![
            rr(name, DNSClass::IN, 0, dhcid(d)),
            empty(name, DNSClass::NONE, RecordType::A),
            empty(name, DNSClass::NONE, RecordType::AAAA),
        ],
        vec![empty(name, DNSClass::ANY, RecordType::Unknown(DHCID_TYPE))],
    )
}

/// The in-addr.arpa name of `addr` (RFC 1035 section 3.5), without the dot.
pub fn reverse_name(addr: Ipv4Addr) -> String {
    let [a, b, c, d] = addr.octets();
    format!("{d}.{c}.{b}.{a}.in-addr.arpa")
}

fn dhcid(d: &[u8]) -> RData {
    RData::Unknown {
        code: RecordType::Unknown(DHCID_TYPE),
        rdata: NULL::with(d.to_vec()),
    }
}

fn rr(name: &Name, class: DNSClass, ttl: u32, data: RData) -> Record {
    let mut r = Record::from_rdata(name.clone(), ttl, data);
    r.dns_class = class;
    r
}

/// A record without RDATA: a prerequisite on a name or RRset, or the
/// deletion of an RRset (RFC 2136 sections 2.4 and 2.5).
fn empty(name: &Name, class: DNSClass, t: RecordType) -> Record {
    let mut r = Record::update0(name.clone(), 0, t);
    r.dns_class = class;
    r
}

fn update(zone: &Name, prerequisites: Vec<Record>, updates: Vec<Record>) -> Message {
    let mut m = Message::query();
    m.metadata.op_code = OpCode::Update;
    m.metadata.recursion_desired = false;
    let mut q = Query::new();
    q.set_name(zone.clone())
        .set_query_class(DNSClass::IN)
        .set_query_type(RecordType::SOA);
    m.add_query(q);
    m.add_answers(prerequisites);
    m.add_authorities(updates);
    m
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
