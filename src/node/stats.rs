//! Counters of what the server did: logged at shutdown, shown by `tandem
//! status` and exported as Prometheus metrics (`server::metrics`).

use crate::dhcp::Verdict;
use crate::failover::message::Message;
use std::collections::BTreeMap;

/// Counters since start, all monotonic; logged at shutdown, most of them also
/// shown by `tandem status`.
#[derive(Default, Debug, Clone)]
pub struct Stats {
    /// Parsed requests handed to the node.
    pub received: u64,
    /// Datagrams dropped by `Request::parse` (counted by the edge).
    pub malformed: u64,
    /// Datagrams larger than the receive buffer, dropped (counted by the edge).
    pub oversized: u64,
    /// Requests dropped by the per-client or global rate limit.
    pub rate_limited: u64,
    /// Requests dropped for overload: too many replies waiting for their commit
    /// (`MAX_PARKED`), or (added by the edge) datagrams the kernel dropped on a
    /// served socket (SO_RXQ_OVFL): nearly always because its receive buffer
    /// was full, though the kernel counts a bad UDP checksum there too.
    pub overloaded: u64,
    /// DHCPOFFERs decided.
    pub offers: u64,
    /// DHCPACKs decided (grants and renewals; INFORM answers are `informs`).
    pub acks: u64,
    /// DHCPNAKs decided.
    pub naks: u64,
    /// DHCPINFORMs answered.
    pub informs: u64,
    /// DHCPRELEASEs applied.
    pub releases: u64,
    /// DHCPDECLINEs applied (address quarantined).
    pub declines: u64,
    /// Requests the engine chose not to answer.
    pub ignored: u64,
    /// Pings before an OFFER that no one answered (the OFFER went out).
    pub pings_silent: u64,
    /// Pings before an OFFER that a host answered (the address was quarantined).
    pub pings_answered: u64,
    /// DNS jobs completed (records added, found in conflict, or removed).
    pub dns_updates: u64,
    /// DNS jobs that failed (no answer, an error RCODE), each tried again later.
    pub dns_failures: u64,
    /// Replies the socket refused to send (counted by the edge).
    pub send_errors: u64,
    /// Journal transactions committed.
    pub commits: u64,
    /// Lease records written by those transactions.
    pub committed_leases: u64,
    /// Journal transactions that failed; their replies were withheld.
    pub commit_failures: u64,
    /// Parsed requests by DHCP message type (`MessageType::as_str`).
    pub received_by_type: BTreeMap<&'static str, u64>,
    /// Requests the engine chose not to answer, by its reason (a fixed set
    /// of phrases from `dhcp`).
    pub ignored_by_reason: BTreeMap<&'static str, u64>,
    /// Peer messages this server sent.
    pub peer_sent: PeerTraffic,
    /// Peer messages this server received.
    pub peer_received: PeerTraffic,
}

/// Failover messages one way on the peer link.
#[derive(Default, Debug, Clone)]
pub struct PeerTraffic {
    /// Messages by name (`Message::name`: `binding-update`, `binding-ack`, ...).
    pub messages: BTreeMap<&'static str, u64>,
    /// Lease records carried by binding updates (the draft's BNDUPDs; several per message).
    pub binding_records: u64,
    /// Records refused in binding acks (each is resolved by the refusing side's own update).
    pub rejected_records: u64,
}

impl PeerTraffic {
    /// Counts one message.
    pub fn count(&mut self, m: &Message) {
        *self.messages.entry(m.name()).or_default() += 1;
        match m {
            Message::BindingUpdate { leases, .. } => self.binding_records += leases.len() as u64,
            Message::BindingAck { rejects, .. } => self.rejected_records += rejects.len() as u64,
            _ => {}
        }
    }
}

impl Stats {
    /// Counts one engine decision under its verdict.
    pub fn count(&mut self, v: &Verdict) {
        match v {
            Verdict::Offer(_) => self.offers += 1,
            Verdict::Ack(_) => self.acks += 1,
            Verdict::Nak(_) => self.naks += 1,
            Verdict::Informed => self.informs += 1,
            Verdict::Released(_) => self.releases += 1,
            Verdict::Declined(_) => self.declines += 1,
            Verdict::Ignored(why) => {
                self.ignored += 1;
                *self.ignored_by_reason.entry(why).or_default() += 1;
            }
        }
    }
}
