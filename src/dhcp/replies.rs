//! Building replies: the client's classes and what its reply carries
//! (`Assembly`), an OFFER or ACK, and a NAK.

use super::assemble::Assembly;
use super::engine::Engine;
use super::outcome::{Outcome, RecvContext, Reply, Verdict};
use super::route;
use super::times::Grant;
use crate::config::{Class, Subnet};
use crate::proto::reply::{ReplyKind, reply_limit};
use crate::proto::{ReplyBuilder, Request};
use std::net::Ipv4Addr;

impl Engine {
    /// The classes the client of `req` on `subnet`'s link belongs to, in
    /// file order (`classify`); it is known when it has a reservation on
    /// the link.
    pub(super) fn classes(&self, req: &Request, subnet: &Subnet) -> Vec<&Class> {
        if self.config.classes.is_empty() {
            return Vec::new();
        }
        let known = self
            .config
            .link_of(subnet)
            .any(|s| self.reservation(s, req).is_some());
        super::classify::classes_of(&self.config, req, known)
    }

    /// What a reply to `req` on `subnet` carries for the client: its
    /// reservation's and classes' settings over the subnet's.
    pub(super) fn assembly<'a>(
        &'a self,
        req: &'a Request,
        ctx: &RecvContext,
        subnet: &'a Subnet,
        grant: Option<Grant>,
    ) -> Assembly<'a> {
        Assembly {
            req,
            subnet,
            reservation: self.reservation(subnet, req),
            classes: self.classes(req, subnet),
            server_id: self.server_id(req, ctx),
            fqdn: grant
                .and_then(|_| self.registration(subnet, req))
                .and_then(|r| r.reply),
            grant,
        }
    }

    /// An OFFER or ACK of `addr`. An ACK waits for its commit; it carries
    /// ciaddr and goes to it only when `bound` (the client is renewing or
    /// rebinding the address it has configured).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn grant_reply(
        &self,
        req: &Request,
        ctx: &RecvContext,
        subnet: &Subnet,
        kind: ReplyKind,
        addr: Ipv4Addr,
        grant: Grant,
        bound: bool,
    ) -> Reply {
        let mut rb = ReplyBuilder::new(req, kind, reply_limit(req));
        rb.set_yiaddr(addr);
        if bound {
            rb.set_ciaddr(req.ciaddr);
        }
        let asm = self.assembly(req, ctx, subnet, Some(grant));
        asm.write_fixed(&mut rb);
        asm.write(&mut rb);
        Reply {
            bytes: rb.finish(),
            route: route::for_grant(req, addr, bound),
            after_commit: kind == ReplyKind::Ack,
            ping_first: None,
        }
    }

    pub(super) fn nak(
        &self,
        req: &Request,
        ctx: &RecvContext,
        subnet: Option<&Subnet>,
        why: &'static str,
    ) -> Outcome {
        let mut rb = ReplyBuilder::new(req, ReplyKind::Nak, reply_limit(req));
        if req.is_relayed() {
            // RFC 2131 section 4.3.2: the relay must broadcast a NAK to the client.
            rb.set_broadcast_flag();
        }
        let server_id = self.server_id(req, ctx);
        match subnet.or_else(|| self.config.subnets.first()) {
            Some(subnet) => Assembly {
                req,
                subnet,
                reservation: None,
                classes: Vec::new(),
                server_id,
                grant: None,
                fqdn: None,
            }
            .write_nak(&mut rb, why),
            None => {
                rb.push(crate::proto::code::SERVER_ID, &server_id.octets());
            }
        }
        let reply = Reply {
            bytes: rb.finish(),
            route: route::for_nak(req),
            after_commit: false,
            ping_first: None,
        };
        Outcome {
            reply: Some(reply),
            changes: Vec::new(),
            verdict: Verdict::Nak(why),
        }
    }
}
