//! What goes into a node and what comes out of it.

use crate::dhcp::{RecvContext, Reply};
use crate::failover::message::Message;
use crate::lease::journal::Batch;
use crate::proto::Request;
use crate::time::Time;
use std::net::Ipv4Addr;

/// A parsed DHCP datagram and where it arrived.
#[derive(Debug)]
pub struct Received {
    /// The checked request.
    pub req: Request,
    /// Where it arrived: interface, local address, link, broadcast or not.
    pub ctx: RecvContext,
    /// The edge's socket it came in on; its reply goes out the same one.
    pub socket: usize,
    /// When the socket received it (the kernel's timestamp), if the edge
    /// knows: a request that waited too long is not answered
    /// (`node::STALE_AFTER`).
    pub arrived: Option<crate::time::Time>,
}

/// An event for [`Node::handle`](super::Node::handle).
#[derive(Debug)]
pub enum Input {
    /// A client's (or relay's) request.
    Request(Box<Received>),
    /// The peer link is up and authenticated.
    PeerUp,
    /// A message from the partner, decoded and authenticated by the edge.
    PeerFrame(Message),
    /// The peer link went down (or the edge could not queue a frame on it:
    /// the protocol cannot go on without it), with the reason.
    PeerDown(String),
    /// Every journal batch numbered up to `upto` is durable.
    Committed {
        /// The highest batch number now durable.
        upto: u64,
    },
    /// The journal batches up to `upto` could not be written: the node
    /// stops (see [`Output::Halt`]).
    CommitFailed {
        /// The highest batch number of the failed transaction.
        upto: u64,
    },
    /// Time passed: due at [`Node::poll_timeout`](super::Node::poll_timeout).
    Tick,
    /// The ping of [`Output::Ping`] with the same `id` is over.
    PingDone {
        /// The `id` of the ping.
        id: u64,
        /// Whether an echo reply came from the address within the timeout.
        answered: bool,
    },
    /// The DNS job of [`Output::Dns`] with the same `id` is over: where
    /// the records stand (`Added`, `Conflict`, `Removed`), or why it failed
    /// (the node tries again later).
    DnsDone {
        /// The `id` of the job.
        id: u64,
        /// Its outcome.
        result: Result<crate::lease::DnsStatus, String>,
    },
    /// The witness's report (`failover::witness::Report`), authenticated
    /// by the edge and matched to the heartbeat it answers.
    WitnessReport {
        /// When that heartbeat went ([`Output::WitnessHeartbeat`]).
        asked: Time,
        /// Milliseconds the witness had not heard the partner.
        partner_silent_ms: u64,
        /// Whether the witness heard the partner since it started.
        partner_heard: bool,
    },
    /// An operator's command from the control socket; answered by
    /// [`Output::Answer`] with the same `id`.
    Control {
        /// The edge's number for the request, echoed in the answer.
        id: u64,
        /// What the operator asked.
        command: super::Command,
    },
    /// A changed configuration (SIGHUP, `tandem reload`), already validated;
    /// applied whole or refused whole (`config::reload`), answered by
    /// [`Output::Answer`] with the same `id`.
    Reload {
        /// The edge's number for the request, echoed in the answer.
        id: u64,
        /// The new configuration.
        config: std::sync::Arc<crate::config::Config>,
    },
}

/// Something for the edge to carry out, in the order the node gives them.
#[derive(Debug)]
pub enum Output {
    /// Write this batch; report [`Input::Committed`] (or `CommitFailed`)
    /// once it and every earlier one is done.
    Journal(Batch),
    /// Send this reply from `src` on `socket` (the request's own).
    Reply {
        /// The encoded reply and its route.
        reply: Reply,
        /// The edge's socket the request came in on.
        socket: usize,
        /// Source address to send from: the local address the request reached.
        src: Ipv4Addr,
    },
    /// Send this message to the partner on the current connection.
    PeerFrame(Message),
    /// Close the current peer connection, with the reason (the edge
    /// reconnects as usual).
    PeerClose(String),
    /// Stop this server, with the reason: a journal commit failed, so the
    /// node's memory holds changes its journal may not. Nothing that
    /// waited on the failed batches has left, and the node takes no further
    /// input (control commands get an error answer). The edge exits with a
    /// failure; a restart rebuilds from the journal, which holds every
    /// lease ever acknowledged. Fail-stop, as PostgreSQL does on a failed
    /// fsync: retrying a write whose outcome is unknown, or serving from
    /// memory the disk does not hold, could acknowledge what a crash
    /// would lose.
    Halt(String),
    /// Send an ICMP echo request to `addr` and report within `timeout_ms`
    /// milliseconds whether it answered ([`Input::PingDone`], same `id`):
    /// an OFFER of `addr` waits on it (`[server] ping_check`).
    Ping {
        /// The node's number for this ping.
        id: u64,
        /// The address about to be offered.
        addr: Ipv4Addr,
        /// How long to wait for the echo reply, milliseconds.
        timeout_ms: u64,
    },
    /// Carry out this DNS job (`ddns::Exchange`) and report
    /// [`Input::DnsDone`] with the same `id`. Nothing waits for it.
    Dns {
        /// The node's number for the job.
        id: u64,
        /// What to add or remove.
        job: crate::ddns::DnsJob,
    },
    /// Send a heartbeat to the witness (`[failover] witness`), with a
    /// fresh nonce; its report comes back as [`Input::WitnessReport`].
    WitnessHeartbeat,
    /// The answer to a control command.
    Answer {
        /// The `id` of the `Input::Control` answered.
        id: u64,
        /// The JSON answer for the control socket.
        answer: serde_json::Value,
    },
}
