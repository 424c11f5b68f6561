//! What a request shows about the client's other server, read by the
//! engine for the failover evidence collector (`failover::evidence`): the
//! engine knows links, which addresses are its own and which bindings the
//! partner knows; the node decides what the sighting is worth.

use super::engine::Engine;
use super::outcome::RecvContext;
use super::request::RequestState;
use crate::config::Subnet;
use crate::lease::{Lease, LeaseState, LeaseStore};
use crate::proto::Request;
use crate::proto::packet::MessageType;
use crate::time::Time;
use std::net::Ipv4Addr;

/// What a client's request says about whether a server answers it. The
/// first three name a request for an active binding of the client, on its
/// link, whose current version the partner knows: either server of the
/// pair answers it at once, whatever its free addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sighting {
    /// A DISCOVER (the binding is offered again).
    Discover,
    /// An INIT-REBOOT REQUEST verifying the binding.
    InitReboot,
    /// A broadcast or relayed REQUEST with ciaddr (REBINDING); the binding
    /// runs `left` more seconds.
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
    /// messages, renewals sent to us, clients without such a binding, or
    /// no link here).
    pub fn sighting(
        &self,
        now: Time,
        store: &LeaseStore,
        req: &Request,
        ctx: &RecvContext,
    ) -> Option<Sighting> {
        let link = self.subnet(req, ctx)?;
        let state = match req.kind {
            MessageType::Discover => None,
            MessageType::Request => Some(RequestState::of(req)?),
            _ => return None,
        };
        let known = |addr: Option<Ipv4Addr>| self.known_binding(now, store, req, link, addr);
        match state {
            None => known(None).map(|_| Sighting::Discover),
            Some(RequestState::Selecting { server, .. }) => {
                (!self.is_ours(server, req, ctx)).then_some(Sighting::ChoseOther)
            }
            Some(RequestState::InitReboot { addr }) => {
                known(Some(addr)).map(|_| Sighting::InitReboot)
            }
            Some(RequestState::Renewing {
                ciaddr,
                server: None,
            }) if ctx.broadcast || req.is_relayed() => {
                let l = known(Some(ciaddr))?;
                Some(Sighting::Rebinding {
                    left: now.until(l.expires),
                })
            }
            Some(RequestState::Renewing { .. }) => None,
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
