//! What a request shows about the client's other server, read by the
//! engine for the failover evidence collector (`failover::evidence`): the
//! engine knows links, classes, reservations and which addresses are its
//! own; the node decides what the sighting is worth.

use super::engine::Engine;
use super::outcome::RecvContext;
use super::request::RequestState;
use crate::config::PoolId;
use crate::lease::{LeaseState, LeaseStore};
use crate::proto::packet::MessageType;
use crate::proto::{ClientKey, Request};
use crate::time::Time;
use std::net::Ipv4Addr;

/// What a client's request says about whether a server answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sighting {
    /// A DISCOVER on a served link. `pools` are the pools its classes
    /// admit there; `bound` says it holds an active binding or a
    /// reservation there, which any server of the pair would offer
    /// whatever its free addresses.
    Discover {
        /// Pools the client may draw from on its link.
        pools: Vec<PoolId>,
        /// It holds an active binding or a reservation on its link.
        bound: bool,
    },
    /// An INIT-REBOOT REQUEST verifying an active binding of this client
    /// on its link (a server holding the binding ACKs it).
    InitReboot,
    /// A broadcast or relayed REQUEST with ciaddr (REBINDING) for an active
    /// binding of this client that runs at least `left` more seconds.
    Rebinding {
        /// Seconds the binding still runs.
        left: u64,
    },
    /// A SELECTING REQUEST naming a server other than this one: some
    /// server answered the client.
    ChoseOther,
}

impl Engine {
    /// What `req` (received as `ctx` says) shows at `now`, given the
    /// bindings in `store`; `None` for requests that say nothing (other
    /// message types, renewals sent to us, clients with nothing to verify
    /// or no link here).
    pub fn sighting(
        &self,
        now: Time,
        store: &LeaseStore,
        req: &Request,
        ctx: &RecvContext,
    ) -> Option<Sighting> {
        let link = self.subnet(req, ctx)?;
        let key = req.client_key();
        match req.kind {
            MessageType::Discover => {
                let classes = self.classes(req, link);
                let pools = self.config.link_of(link).flat_map(|s| &s.pools);
                let pools = pools.filter(|id| self.config.pool(**id).admits(&classes));
                let reserved = self
                    .config
                    .link_of(link)
                    .any(|s| self.reservation(s, req).is_some());
                let bound = reserved || self.active_on_link(now, store, &key, link, None);
                Some(Sighting::Discover {
                    pools: pools.copied().collect(),
                    bound,
                })
            }
            MessageType::Request => match RequestState::of(req)? {
                RequestState::Selecting { server, .. } => {
                    (!self.is_ours(server, req, ctx)).then_some(Sighting::ChoseOther)
                }
                RequestState::InitReboot { addr } => self
                    .active_on_link(now, store, &key, link, Some(addr))
                    .then_some(Sighting::InitReboot),
                RequestState::Renewing {
                    ciaddr,
                    server: None,
                } if ctx.broadcast || req.is_relayed() => {
                    let l = Self::own_record(store, &key, ciaddr)?;
                    let active = l.state == LeaseState::Active && l.expires > now;
                    active.then(|| Sighting::Rebinding {
                        left: now.until(l.expires),
                    })
                }
                RequestState::Renewing { .. } => None,
            },
            _ => None,
        }
    }

    /// Whether `key` holds an active binding on the link of `link` (at
    /// `addr` when given).
    fn active_on_link(
        &self,
        now: Time,
        store: &LeaseStore,
        key: &ClientKey,
        link: &crate::config::Subnet,
        addr: Option<Ipv4Addr>,
    ) -> bool {
        store.client_leases(key).any(|l| {
            l.state == LeaseState::Active
                && l.expires > now
                && addr.is_none_or(|a| a == l.addr)
                && self.config.on_link(link, l.addr).is_some()
        })
    }
}
