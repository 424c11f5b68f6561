//! What a request shows about the client's other server, read by the
//! engine for the failover evidence collector (`failover::evidence`): the
//! engine knows links, which addresses are its own and which bindings the
//! partner knows; the node decides what the sighting is worth.

use super::engine::Engine;
use super::outcome::RecvContext;
use super::request::RequestState;
use crate::config::{PoolId, Subnet};
use crate::lease::{Lease, LeaseState, LeaseStore};
use crate::proto::Request;
use crate::proto::packet::MessageType;
use crate::time::Time;
use std::net::Ipv4Addr;

/// What a client's request says about whether a server answers it. The
/// first two name a request from a client holding an active binding on its
/// link whose current version the partner knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sighting {
    /// A DISCOVER: the binding is offered again, or, if the partner has
    /// since seen it released, one of the free addresses of `pools` (those
    /// the client's classes admit on its link).
    Discover {
        /// Pools the client may draw from on its link.
        pools: Vec<PoolId>,
    },
    /// An INIT-REBOOT REQUEST verifying the binding: either server ACKs it.
    InitReboot,
    /// A SELECTING REQUEST naming a server other than this one: some
    /// server answered the client.
    ChoseOther,
}

impl Engine {
    /// What `req` (received as `ctx` says) shows at `now`, given the
    /// bindings in `store`; `None` for requests that say nothing (other
    /// messages, renewals and rebindings, clients without such a binding,
    /// or no link here). A REBINDING client still holds its lease and
    /// retransmits a minute or more apart: it proves little, and holding
    /// it back costs much.
    pub fn sighting(
        &self,
        now: Time,
        store: &LeaseStore,
        req: &Request,
        ctx: &RecvContext,
    ) -> Option<Sighting> {
        let link = self.subnet(req, ctx)?;
        let known = |addr: Option<Ipv4Addr>| self.known_binding(now, store, req, link, addr);
        match req.kind {
            MessageType::Discover => {
                known(None)?;
                let classes = self.classes(req, link);
                let pools = self.config.link_of(link).flat_map(|s| &s.pools);
                let pools = pools.filter(|id| self.config.pool(**id).admits(&classes));
                Some(Sighting::Discover {
                    pools: pools.copied().collect(),
                })
            }
            MessageType::Request => match RequestState::of(req)? {
                RequestState::Selecting { server, .. } => {
                    (!self.is_ours(server, req, ctx)).then_some(Sighting::ChoseOther)
                }
                RequestState::InitReboot { addr } => {
                    known(Some(addr)).map(|_| Sighting::InitReboot)
                }
                RequestState::Renewing { .. } => None,
            },
            _ => None,
        }
    }

    /// The client's active binding on the link of `link` (at `addr` when
    /// given) whose current version the partner knows, if any.
    fn known_binding<'s>(
        &self,
        now: Time,
        store: &'s LeaseStore,
        req: &Request,
        link: &Subnet,
        addr: Option<Ipv4Addr>,
    ) -> Option<&'s Lease> {
        store.client_leases(&req.client_key()).find(|l| {
            l.state == LeaseState::Active
                && l.expires > now
                && store.is_synced(l)
                && addr.is_none_or(|a| a == l.addr)
                && self.config.on_link(link, l.addr).is_some()
        })
    }
}
