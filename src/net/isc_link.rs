//! The TCP link to an ISC dhcpd 4.4 failover partner (`[failover] protocol
//! = "isc-draft12"`), with the same events and commands as tandem's own
//! link (`net::peer_link`), so the server drives either alike. Each
//! connection runs a `failover::isc::session::IscSession`, which speaks
//! ISC's protocol and hands the server tandem's messages.
//!
//! ISC's protocol has no authentication, so the link is pinned to the
//! configured partner: the secondary accepts connections only from the
//! peer's address (others are closed at once and logged), and the primary
//! dials from the `listen` address, the one the ISC partner's `peer
//! address` names (ISC accepts nothing else: research section 2.1). The
//! primary dials, the secondary listens, as with tandem's own link (an ISC
//! primary dials a tandem secondary; an ISC secondary's own dials to a
//! tandem primary find no listener, which dhcpd rides out). A second
//! connection while one is up is closed at once, as dhcpd refuses one: a
//! probe of port 647 from the partner's host must not drop the live link,
//! and a dead one ends on its own after `max_response_delay` of silence.

use crate::failover::isc::session::{IscSession, SessionConfig, SessionOutput};
use crate::failover::isc::wire::Frame;
use crate::net::isc_codec::IscCodec;
use crate::net::peer_link::{LinkCmd, LinkEvent};
use crate::time::{Clock, SystemClock};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio_util::codec::Framed;

/// How long a connection attempt may take, and the wait between attempts
/// (ISC redials a lost partner every 5 s too).
const DIAL_EVERY: Duration = Duration::from_secs(5);
/// Failed connection attempts between two warnings (5 minutes).
const WARN_EVERY: u32 = 60;
/// A frame the partner's socket will not take for this long means the
/// partner has stopped reading: the connection is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the ISC link task needs.
#[derive(Clone, Debug)]
pub struct IscLinkConfig {
    /// Our address: the secondary listens on it, the primary dials from
    /// its IP.
    pub listen: SocketAddr,
    /// The ISC partner's address: the primary dials it, and the secondary
    /// accepts only its IP.
    pub peer: SocketAddr,
    /// What each connection's session needs (the role is in its link).
    pub session: SessionConfig,
}

type Conn = Framed<TcpStream, IscCodec>;

/// Runs the link forever, like `peer_link::run`: (re)connects or accepts,
/// then shuttles between the socket (through the session) and the server.
pub async fn run(
    cfg: IscLinkConfig,
    events: mpsc::Sender<LinkEvent>,
    cmds: mpsc::Receiver<LinkCmd>,
    reset: Arc<Notify>,
) {
    tracing::warn!(peer = %cfg.peer, "the peer link speaks ISC dhcpd's failover protocol, which has no authentication: it is pinned to the partner's address; keep it on a dedicated VLAN or in an IPsec or WireGuard tunnel");
    let (conn_tx, conn_rx) = mpsc::channel::<(TcpStream, SocketAddr)>(1);
    let gone = Arc::new(Notify::new());
    if cfg.session.link.primary {
        tokio::spawn(dial(cfg.clone(), conn_tx, gone.clone()));
    } else {
        tokio::spawn(listen(cfg.clone(), conn_tx));
    }
    let mut link = Link {
        cfg,
        events,
        cmds,
        reset,
        conn_rx,
        gone,
        current: None,
        generation: 0,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while link.turn(&mut tick).await.is_some() {}
}

/// The link task's state between turns of its loop.
struct Link {
    cfg: IscLinkConfig,
    events: mpsc::Sender<LinkEvent>,
    cmds: mpsc::Receiver<LinkCmd>,
    reset: Arc<Notify>,
    /// New connections, from `dial` or `listen`.
    conn_rx: mpsc::Receiver<(TcpStream, SocketAddr)>,
    /// Tells `dial` the connection is gone, so it dials again.
    gone: Arc<Notify>,
    current: Option<(Conn, IscSession)>,
    generation: u64,
}

impl Link {
    /// Waits for the next thing to happen and handles it; `None` once the
    /// server has gone (its channels closed), which ends the task.
    async fn turn(&mut self, tick: &mut tokio::time::Interval) -> Option<()> {
        let Some((conn, session)) = self.current.as_mut() else {
            return self.idle().await;
        };
        let now = || SystemClock.now();
        let outputs: Vec<SessionOutput> = tokio::select! {
            frame = conn.next() => match frame {
                Some(Ok(f)) => session.receive(now(), &f),
                Some(Err(e)) => vec![SessionOutput::Close(format!("ISC peer link: {e}"))],
                None => vec![SessionOutput::Close("the ISC partner closed the connection".into())],
            },
            cmd = self.cmds.recv() => match cmd? {
                LinkCmd::Send(g, _) | LinkCmd::Close(g, _) if g != self.generation => vec![],
                LinkCmd::Send(_, m) => session.send(now(), m),
                LinkCmd::Close(_, why) => vec![SessionOutput::Close(why)],
            },
            _ = tick.tick() => session.tick(now()),
            () = self.reset.notified() => vec![SessionOutput::Close("the server dropped the connection".into())],
            Some((s, remote)) = self.conn_rx.recv() => {
                // As dhcpd does (reject 7): the live connection stays, and
                // ends on its own once silent for max_response_delay.
                tracing::warn!(%remote, "refused a second failover connection from the ISC partner's address while one is up");
                drop(s);
                vec![]
            }
        };
        self.apply(outputs).await
    }

    /// Sends the session's frames, tells the server its messages, and
    /// drops the connection on a close.
    async fn apply(&mut self, outputs: Vec<SessionOutput>) -> Option<()> {
        for o in outputs {
            let down = match o {
                SessionOutput::Frame(f) => self.write(f).await,
                SessionOutput::Message(m) => {
                    self.events.send(LinkEvent::Message(m)).await.ok()?;
                    None
                }
                SessionOutput::Close(why) => Some(why),
            };
            if let Some(why) = down {
                self.end_session();
                self.gone.notify_one();
                self.events.send(LinkEvent::Down(why)).await.ok()?;
                break;
            }
        }
        Some(())
    }

    /// Writes `f`; the reason to drop the connection if that fails or the
    /// partner has stopped reading for `WRITE_TIMEOUT`.
    async fn write(&mut self, f: Frame) -> Option<String> {
        let (conn, _) = self.current.as_mut()?;
        match tokio::time::timeout(WRITE_TIMEOUT, conn.send(f)).await {
            Ok(r) => r.err().map(|e| format!("ISC peer link write failed: {e}")),
            Err(_) => Some("the ISC partner stopped reading".into()),
        }
    }

    /// Drops the current connection's session, keeping the identity it
    /// gave a dhcpd in RECOVER for the next one, so that a link blip
    /// during dhcpd's recovery is not taken for a second loss.
    fn end_session(&mut self) {
        if let Some((_, s)) = self.current.take() {
            self.cfg.session.recover_epoch = s.recover_epoch();
        }
    }

    /// No connection: waits for one, discarding commands meant for a dead
    /// link.
    async fn idle(&mut self) -> Option<()> {
        tokio::select! {
            Some((s, remote)) = self.conn_rx.recv() => self.up(s, remote).await,
            cmd = self.cmds.recv() => cmd.map(|_| ()),
            () = self.reset.notified() => Some(()),
        }
    }

    /// Makes `s` the current connection, reports it up under a new
    /// generation (the server's peer then says its state, which the
    /// session sends once ISC's handshake is done) and sends what the
    /// session opens with (the primary's CONNECT).
    async fn up(&mut self, s: TcpStream, remote: SocketAddr) -> Option<()> {
        let _ = s.set_nodelay(true);
        self.generation += 1;
        let generation = self.generation;
        self.end_session();
        let mut cfg = self.cfg.session.clone();
        cfg.connection = generation;
        let (session, first) = IscSession::open(cfg, SystemClock.now());
        self.current = Some((Framed::new(s, IscCodec), session));
        tracing::info!(%remote, "ISC partner connected");
        self.events
            .send(LinkEvent::Up { remote, generation })
            .await
            .ok()?;
        self.apply(first).await
    }
}

/// Dials the partner from our own address until connected, then again
/// once that connection is gone.
async fn dial(cfg: IscLinkConfig, conns: mpsc::Sender<(TcpStream, SocketAddr)>, gone: Arc<Notify>) {
    let mut failures: u32 = 0;
    loop {
        let why = match tokio::time::timeout(DIAL_EVERY, connect_from(cfg.listen, cfg.peer)).await {
            Ok(Ok(s)) => {
                failures = 0;
                if conns.send((s, cfg.peer)).await.is_err() {
                    return;
                }
                gone.notified().await;
                None
            }
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("timed out".to_string()),
        };
        if let Some(why) = why {
            // The first failure, then every WARN_EVERY attempts: a wrong
            // `listen` address (EADDRNOTAVAIL) or a dhcpd refusing us
            // shows at the default log level without filling the log.
            if failures.is_multiple_of(WARN_EVERY) {
                tracing::warn!(peer = %cfg.peer, from = %cfg.listen.ip(), error = %why, attempts = failures + 1, "cannot connect to the ISC partner");
            }
            failures = failures.saturating_add(1);
        }
        tokio::time::sleep(DIAL_EVERY).await;
    }
}

/// A connection to `peer` from `local`'s address (any port).
async fn connect_from(local: SocketAddr, peer: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = if peer.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(local.ip(), 0))?;
    socket.connect(peer).await
}

/// Accepts connections from the partner's address only.
async fn listen(cfg: IscLinkConfig, conns: mpsc::Sender<(TcpStream, SocketAddr)>) {
    let listener = super::tcp::bind_retrying(cfg.listen, "the ISC partner").await;
    loop {
        let (s, remote) = super::tcp::accept_next(&listener).await;
        if remote.ip() != cfg.peer.ip() {
            tracing::warn!(%remote, peer = %cfg.peer, "refused a failover connection from an address that is not the ISC partner's");
            continue;
        }
        if conns.send((s, remote)).await.is_err() {
            return;
        }
    }
}
