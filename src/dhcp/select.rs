//! Which subnet a request belongs to.
//!
//! Order: option 118 (RFC 3011) and the relay's link-selection sub-option
//! (RFC 3527) name the client's link explicitly and override giaddr, as both
//! RFCs require; then giaddr; then, for a directly attached client, the
//! receiving interface. A unicast RENEW that did not come through a relay is
//! placed by its ciaddr, since it may come from a routed network.

use super::outcome::RecvContext;
use crate::config::{Config, Subnet};
use crate::proto::Request;

pub fn subnet_for<'c>(config: &'c Config, req: &Request, ctx: &RecvContext) -> Option<&'c Subnet> {
    let link = req
        .subnet_selection()
        .or_else(|| req.link_selection())
        .or_else(|| req.is_relayed().then_some(req.giaddr));
    match link {
        Some(a) => config.subnet_containing(a),
        None if !req.ciaddr.is_unspecified() && !ctx.broadcast => {
            config.subnet_containing(req.ciaddr)
        }
        None => ctx.link.and_then(|a| config.subnet_containing(a)),
    }
}
