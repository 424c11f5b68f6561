//! The wire forms of a binding update per peer protocol version: the
//! codec sends the form the partner reads (`Message::for_version`) and
//! reads each back as the `BindingUpdate` it stands for
//! (`Message::normalized`), so that the peer never sees them.

use super::{DNS_VERSION, Message, STALE_VERSION};
use crate::lease::{DnsRecords, DnsRecordsV6};

impl Message {
    /// The form of this message for a partner speaking protocol `version`:
    /// a binding update carries its records' DNS side from version 6 on
    /// (older partners do not keep DNS records), with every stale name
    /// from version 8 on.
    pub fn for_version(self, version: u16) -> Message {
        match self {
            Message::BindingUpdate {
                batch,
                time,
                mut leases,
            } if version >= DNS_VERSION => {
                let dns: Vec<_> = leases.iter_mut().map(|l| l.dns.take()).collect();
                if version >= STALE_VERSION {
                    return Message::BindingUpdateStale {
                        batch,
                        time,
                        leases,
                        dns,
                    };
                }
                let dns = dns
                    .iter()
                    .map(|d| d.as_deref().map(|d| Box::new(DnsRecordsV6::from(d))))
                    .collect();
                Message::BindingUpdateDns {
                    batch,
                    time,
                    leases,
                    dns,
                }
            }
            m => m,
        }
    }

    /// The message as the peer handles it: a `BindingUpdateDns` or
    /// `BindingUpdateStale` becomes the `BindingUpdate` it stands for.
    /// Errors: the two lists differ in length.
    pub fn normalized(self) -> Result<Message, String> {
        let (batch, time, mut leases, dns) = match self {
            Message::BindingUpdateStale {
                batch,
                time,
                leases,
                dns,
            } => (batch, time, leases, dns),
            Message::BindingUpdateDns {
                batch,
                time,
                leases,
                dns,
            } => {
                let dns = dns
                    .into_iter()
                    .map(|d| d.map(|d| Box::new(DnsRecords::from(*d))))
                    .collect();
                (batch, time, leases, dns)
            }
            m => return Ok(m),
        };
        if dns.len() != leases.len() {
            return Err(format!(
                "binding update with {} records and {} DNS entries",
                leases.len(),
                dns.len()
            ));
        }
        for (l, d) in leases.iter_mut().zip(dns) {
            l.dns = d;
        }
        Ok(Message::BindingUpdate {
            batch,
            time,
            leases,
        })
    }
}
