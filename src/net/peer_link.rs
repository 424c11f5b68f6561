//! The TCP link to the partner. The primary connects, the secondary listens;
//! either way a connection must complete the authenticated handshake within
//! a few seconds or it is dropped, so a stranger or a slow client cannot hold
//! the port. Frames are length-prefixed (64 KiB at most) and authenticated by
//! `failover::codec::Session`; any bad frame closes the link.

use crate::failover::codec::{CodecError, Hello, MAX_FRAME, Session};
use crate::failover::message::{Message, PROTOCOL_VERSION};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Unauthenticated connections handled at once; more are refused at accept.
const MAX_HANDSHAKES: usize = 4;
/// Outgoing messages waiting for the socket; a partner that stops reading
/// fills this and the link is closed rather than the server blocked.
pub const SEND_QUEUE: usize = 4096;
/// A frame the partner's socket will not take for this long means the
/// partner has stopped reading: the connection is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the link task reports to the server.
#[derive(Debug)]
pub enum LinkEvent {
    /// A new authenticated connection; commands for it carry `generation`.
    Up {
        /// The partner's address.
        remote: SocketAddr,
        /// Number of this connection; `LinkCmd`s for an older one are dropped.
        generation: u64,
    },
    /// An authenticated message from the partner.
    Message(Message),
    /// The connection ended (or was replaced), and why; the task keeps reconnecting.
    Down(String),
}

/// Commands name the connection they are for: one queued before that
/// connection went down must never reach its successor (a stale update or
/// acknowledgement would be taken as part of the new session).
#[derive(Debug)]
pub enum LinkCmd {
    /// Send a message on connection `generation` (the first field).
    Send(u64, Message),
    /// Close connection `generation` (the first field), logging the reason.
    Close(u64, String),
}

/// What the link task needs: the role and addresses from `[failover]` and the key.
#[derive(Clone)]
pub struct LinkConfig {
    /// Whether this is the primary, which connects; the secondary listens.
    pub primary: bool,
    /// Where the secondary listens.
    pub listen: SocketAddr,
    /// Where the primary connects.
    pub peer: SocketAddr,
    /// The pre-shared key (at least 16 octets) that authenticates the handshake.
    pub key: Arc<Vec<u8>>,
}

type Conn = Framed<TcpStream, LengthDelimitedCodec>;

fn framed(s: TcpStream) -> Conn {
    let _ = s.set_nodelay(true);
    let codec = LengthDelimitedCodec::builder()
        .length_field_type::<u32>()
        .max_frame_length(MAX_FRAME)
        .new_codec();
    Framed::new(s, codec)
}

/// Runs the link forever: (re)connects or accepts, authenticates, then
/// shuttles messages between the socket and the server. `reset` drops the
/// current connection at once (the server gave up on it, for instance
/// because the command queue was full, so a `Close` could not be queued).
pub async fn run(
    cfg: LinkConfig,
    events: mpsc::Sender<LinkEvent>,
    cmds: mpsc::Receiver<LinkCmd>,
    reset: Arc<tokio::sync::Notify>,
) {
    let (auth_tx, auth_rx) = mpsc::channel::<(Conn, Session, SocketAddr)>(1);
    let gone = Arc::new(tokio::sync::Notify::new());
    if cfg.primary {
        tokio::spawn(dial(cfg.clone(), auth_tx, gone.clone()));
    } else {
        tokio::spawn(listen(cfg.clone(), auth_tx));
    }
    let mut link = Link {
        events,
        cmds,
        reset,
        auth_rx,
        gone,
        current: None,
        generation: 0,
    };
    while link.turn().await.is_some() {}
}

/// The link task's state between turns of its loop.
struct Link {
    events: mpsc::Sender<LinkEvent>,
    cmds: mpsc::Receiver<LinkCmd>,
    reset: Arc<tokio::sync::Notify>,
    /// Connections that passed the handshake, from `dial` or `listen`.
    auth_rx: mpsc::Receiver<(Conn, Session, SocketAddr)>,
    /// Tells `dial` the connection is gone, so it dials again.
    gone: Arc<tokio::sync::Notify>,
    current: Option<(Conn, Session)>,
    generation: u64,
}

impl Link {
    /// Waits for the next thing to happen and handles it; `None` once the
    /// server has gone (its channels closed), which ends the task.
    async fn turn(&mut self) -> Option<()> {
        let Some((conn, session)) = self.current.as_mut() else {
            return self.idle().await;
        };
        let down: Option<String> = tokio::select! {
            frame = conn.next() => match frame {
                Some(Ok(bytes)) => match session.open(&bytes) {
                    Ok(msg) => { self.events.send(LinkEvent::Message(msg)).await.ok()?; None }
                    Err(e) => Some(format!("peer frame rejected: {e}")),
                },
                Some(Err(e)) => Some(format!("peer link read failed: {e}")),
                None => Some("partner closed the connection".into()),
            },
            cmd = self.cmds.recv() => match cmd? {
                LinkCmd::Send(g, _) | LinkCmd::Close(g, _) if g != self.generation => None,
                LinkCmd::Send(_, m) => send(conn, session, &m).await,
                LinkCmd::Close(_, why) => Some(why),
            },
            () = self.reset.notified() => Some("the server dropped the connection".into()),
            Some((c, s, remote)) = self.auth_rx.recv() => {
                // The partner (it proved the key) came back on a new connection: the old one is dead.
                let _ = self.events.send(LinkEvent::Down("partner reconnected".into())).await;
                self.up(c, s, remote).await?;
                None
            }
        };
        if let Some(why) = down {
            self.current = None;
            self.gone.notify_one();
            self.events.send(LinkEvent::Down(why)).await.ok()?;
        }
        Some(())
    }

    /// No connection: waits for an authenticated one, discarding commands
    /// meant for a dead link.
    async fn idle(&mut self) -> Option<()> {
        tokio::select! {
            Some((c, s, remote)) = self.auth_rx.recv() => self.up(c, s, remote).await,
            cmd = self.cmds.recv() => cmd.map(|_| ()),
            // Nothing to drop; do not let the request linger for the next connection.
            () = self.reset.notified() => Some(()),
        }
    }

    /// Makes `c` the current connection and reports it up under a new
    /// generation; `None` if the server has gone.
    async fn up(&mut self, c: Conn, s: Session, remote: SocketAddr) -> Option<()> {
        self.current = Some((c, s));
        self.generation += 1;
        let generation = self.generation;
        self.events
            .send(LinkEvent::Up { remote, generation })
            .await
            .ok()
    }
}

/// Seals and writes `m`; the reason to drop the connection if that fails or
/// the partner has stopped reading for `WRITE_TIMEOUT`.
async fn send(conn: &mut Conn, session: &mut Session, m: &Message) -> Option<String> {
    let b = match session.seal(m) {
        Ok(b) => b,
        Err(e) => return Some(format!("cannot encode {}: {e}", m.name())),
    };
    match tokio::time::timeout(WRITE_TIMEOUT, conn.send(Bytes::from(b))).await {
        Ok(r) => r.err().map(|e| format!("peer link write failed: {e}")),
        Err(_) => Some("the partner stopped reading".into()),
    }
}

async fn handshake(conn: &mut Conn, cfg: &LinkConfig) -> Result<Session, String> {
    let nonce = crate::random::bytes::<32>().map_err(|e| format!("no randomness: {e}"))?;
    let mine = Hello {
        version: PROTOCOL_VERSION,
        primary: cfg.primary,
        nonce,
    };
    let exchange = async {
        conn.send(Bytes::from(mine.encode()))
            .await
            .map_err(|e| e.to_string())?;
        let b = conn
            .next()
            .await
            .ok_or("closed during handshake")?
            .map_err(|e| e.to_string())?;
        let theirs = Hello::decode(&b).map_err(|e: CodecError| e.to_string())?;
        let mut session = Session::new(&cfg.key, &mine, &theirs).map_err(|e| e.to_string())?;
        // Each side proves it holds the key before the connection counts, so
        // a stranger's hello can never displace an established session.
        let proof = session
            .seal(&Message::Contact {
                time: 0,
                floor: None,
            })
            .map_err(|e| e.to_string())?;
        conn.send(Bytes::from(proof))
            .await
            .map_err(|e| e.to_string())?;
        let b = conn
            .next()
            .await
            .ok_or("closed during handshake")?
            .map_err(|e| e.to_string())?;
        session.open(&b).map_err(|e| e.to_string())?;
        Ok(session)
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, exchange)
        .await
        .map_err(|_| "handshake timed out".to_string())?
}

async fn dial(
    cfg: LinkConfig,
    auth: mpsc::Sender<(Conn, Session, SocketAddr)>,
    gone: Arc<tokio::sync::Notify>,
) {
    let mut backoff = Duration::from_millis(250);
    loop {
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, TcpStream::connect(cfg.peer)).await {
            Ok(Ok(s)) => {
                let mut conn = framed(s);
                match handshake(&mut conn, &cfg).await {
                    Ok(session) => {
                        backoff = Duration::from_millis(250);
                        if auth.send((conn, session, cfg.peer)).await.is_err() {
                            return;
                        }
                        // Dial again only once that connection is gone.
                        gone.notified().await;
                        continue;
                    }
                    Err(e) => tracing::warn!(peer = %cfg.peer, error = %e, "peer handshake failed"),
                }
            }
            Ok(Err(e)) => tracing::debug!(peer = %cfg.peer, error = %e, "cannot reach the partner"),
            Err(_) => tracing::debug!(peer = %cfg.peer, "connecting to the partner timed out"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn listen(cfg: LinkConfig, auth: mpsc::Sender<(Conn, Session, SocketAddr)>) {
    let listener = super::tcp::bind_retrying(cfg.listen, "the partner").await;
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES));
    loop {
        let (s, remote) = super::tcp::accept_next(&listener).await;
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%remote, "too many unauthenticated peer connections; refusing one");
            continue;
        };
        let (cfg, auth) = (cfg.clone(), auth.clone());
        tokio::spawn(async move {
            let mut conn = framed(s);
            match handshake(&mut conn, &cfg).await {
                Ok(session) => {
                    let _ = auth.send((conn, session, remote)).await;
                }
                Err(e) => tracing::warn!(%remote, error = %e, "peer connection refused"),
            }
            drop(permit);
        });
    }
}
