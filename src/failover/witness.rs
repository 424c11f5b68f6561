//! The witness (issue 18, DESIGN.md section 3 "a witness address"): a
//! small process on a third host (`tandem witness`) that both peers
//! heartbeat over UDP once a second. A peer about to declare its partner
//! down by itself asks, with each heartbeat, how long the witness has gone
//! without hearing the partner; a partner still heartbeating is alive,
//! whatever the peer link and the clients show.
//!
//! Wire format (one UDP datagram each way, big-endian):
//! - heartbeat, 54 octets: "TDW1", kind 1, role (1 primary, 0
//!   secondary), a 16-octet nonce, tag;
//! - report, 63 octets: "TDW1", kind 2, the asker's role, its nonce
//!   echoed, milliseconds since the witness last heard the asker's
//!   partner (u64; since the witness started if never), 1 if it ever
//!   heard it, tag.
//!
//! The tag is HMAC-SHA256 over everything before it, under a key derived
//! from the pair's pre-shared key (HMAC of the label "tandem witness v1"),
//! so the witness needs the same key file and no key of its own, and a
//! witness key cannot authenticate peer-link frames. The nonce echo ties a
//! report to one heartbeat: an old report replayed is refused by the peer
//! (`server::witness`). A replayed heartbeat can only make the witness
//! think a peer alive, which forbids an automatic partner-down: it fails
//! safe. Everything here is pure; the sockets are the edges'.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The UDP port of a witness address given without one.
pub const DEFAULT_PORT: u16 = 647;
/// Octets in a nonce.
pub const NONCE_LEN: usize = 16;
const MAGIC: &[u8; 4] = b"TDW1";
const TAG_LEN: usize = 32;
const HEAD_LEN: usize = 4 + 1 + 1 + NONCE_LEN;
/// Octets in a heartbeat datagram.
pub const HEARTBEAT_LEN: usize = HEAD_LEN + TAG_LEN;
/// Octets in a report datagram.
pub const REPORT_LEN: usize = HEAD_LEN + 8 + 1 + TAG_LEN;
const HEARTBEAT: u8 = 1;
const REPORT: u8 = 2;

/// Why a datagram was refused (logged and counted by the edge that got it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// The datagram is not the length of its kind.
    #[error("datagram of {0} octets is not a witness message")]
    Length(usize),
    /// It does not start with "TDW1".
    #[error("not a witness message (bad magic)")]
    Magic,
    /// It is not the kind expected here (a heartbeat at a peer, say).
    #[error("witness message of kind {0} where another was expected")]
    Kind(u8),
    /// The role octet is neither 0 nor 1, or a flag octet is not 0 or 1.
    #[error("witness message with a bad role or flag octet")]
    Field,
    /// The tag does not verify: another pair's key, or forged.
    #[error("witness message failed authentication (another key, or forged)")]
    BadTag,
}

/// A peer's heartbeat: it is alive, and asks about its partner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// The sender is the pair's primary.
    pub primary: bool,
    /// Fresh random octets, echoed in the report.
    pub nonce: [u8; NONCE_LEN],
}

/// The witness's answer to one heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// The asker is the primary (the report speaks of the secondary).
    pub primary: bool,
    /// The heartbeat's nonce.
    pub nonce: [u8; NONCE_LEN],
    /// Milliseconds since the witness last heard the asker's partner, or
    /// since the witness started if it never did.
    pub partner_silent_ms: u64,
    /// Whether the witness heard the partner since it started.
    pub partner_heard: bool,
}

/// The key that authenticates witness messages of one pair.
#[derive(Clone)]
pub struct WitnessKey([u8; 32]);

impl std::fmt::Debug for WitnessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WitnessKey(..)")
    }
}

impl WitnessKey {
    /// Derives the witness key from the pair's pre-shared key (the peer
    /// link's `secret_file` contents, decoded).
    pub fn derive(psk: &[u8]) -> WitnessKey {
        let mut m = mac(psk);
        m.update(b"tandem witness v1");
        WitnessKey(m.finalize().into_bytes().into())
    }

    /// A heartbeat's datagram ([`HEARTBEAT_LEN`] octets).
    pub fn seal_heartbeat(&self, h: &Heartbeat) -> Vec<u8> {
        self.seal(head(HEARTBEAT, h.primary, &h.nonce))
    }

    /// Reads a heartbeat. Errors: any [`WitnessError`].
    pub fn open_heartbeat(&self, b: &[u8]) -> Result<Heartbeat, WitnessError> {
        let body = self.open(b, HEARTBEAT, HEARTBEAT_LEN)?;
        let (primary, nonce) = read_head(body)?;
        Ok(Heartbeat { primary, nonce })
    }

    /// A report's datagram ([`REPORT_LEN`] octets).
    pub fn seal_report(&self, r: &Report) -> Vec<u8> {
        let mut b = head(REPORT, r.primary, &r.nonce);
        b.extend_from_slice(&r.partner_silent_ms.to_be_bytes());
        b.push(u8::from(r.partner_heard));
        self.seal(b)
    }

    /// Reads a report. Errors: any [`WitnessError`].
    pub fn open_report(&self, b: &[u8]) -> Result<Report, WitnessError> {
        let body = self.open(b, REPORT, REPORT_LEN)?;
        let (primary, nonce) = read_head(body)?;
        let ms: [u8; 8] = body[HEAD_LEN..HEAD_LEN + 8].try_into().expect("8 octets");
        let partner_heard = match body[HEAD_LEN + 8] {
            0 => false,
            1 => true,
            _ => return Err(WitnessError::Field),
        };
        Ok(Report {
            primary,
            nonce,
            partner_silent_ms: u64::from_be_bytes(ms),
            partner_heard,
        })
    }

    fn seal(&self, mut body: Vec<u8>) -> Vec<u8> {
        let mut m = mac(&self.0);
        m.update(&body);
        body.extend_from_slice(&m.finalize().into_bytes());
        body
    }

    /// The body of `b` (before the tag), once its length, magic, kind and
    /// tag are checked.
    fn open<'b>(&self, b: &'b [u8], kind: u8, len: usize) -> Result<&'b [u8], WitnessError> {
        if b.len() < HEAD_LEN {
            return Err(WitnessError::Length(b.len()));
        }
        if &b[..4] != MAGIC {
            return Err(WitnessError::Magic);
        }
        if b[4] != kind {
            return Err(WitnessError::Kind(b[4]));
        }
        if b.len() != len {
            return Err(WitnessError::Length(b.len()));
        }
        let (body, tag) = b.split_at(len - TAG_LEN);
        let mut m = mac(&self.0);
        m.update(body);
        m.verify_slice(tag).map_err(|_| WitnessError::BadTag)?;
        Ok(body)
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length")
}

fn head(kind: u8, primary: bool, nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    let mut b = Vec::with_capacity(REPORT_LEN);
    b.extend_from_slice(MAGIC);
    b.push(kind);
    b.push(u8::from(primary));
    b.extend_from_slice(nonce);
    b
}

fn read_head(body: &[u8]) -> Result<(bool, [u8; NONCE_LEN]), WitnessError> {
    let primary = match body[5] {
        0 => false,
        1 => true,
        _ => return Err(WitnessError::Field),
    };
    let nonce = body[6..HEAD_LEN].try_into().expect("nonce octets");
    Ok((primary, nonce))
}

/// What the witness remembers: when it started and when it last heard
/// each peer, on a monotonic clock in milliseconds. Nothing is kept on
/// disk: a restarted witness has heard no one, and says so.
#[derive(Clone, Debug)]
pub struct Witness {
    started_ms: u64,
    /// Last heartbeat of the secondary (0) and the primary (1).
    heard_ms: [Option<u64>; 2],
}

impl Witness {
    /// A witness that started at `now_ms`.
    pub fn new(now_ms: u64) -> Witness {
        Witness {
            started_ms: now_ms,
            heard_ms: [None, None],
        }
    }

    /// Takes heartbeat `h` at `now_ms` and returns its report: how long
    /// the sender's partner has been silent here.
    pub fn heartbeat(&mut self, now_ms: u64, h: &Heartbeat) -> Report {
        let me = &mut self.heard_ms[usize::from(h.primary)];
        *me = Some(me.map_or(now_ms, |t| t.max(now_ms)));
        let partner = self.heard_ms[usize::from(!h.primary)];
        Report {
            primary: h.primary,
            nonce: h.nonce,
            partner_silent_ms: now_ms.saturating_sub(partner.unwrap_or(self.started_ms)),
            partner_heard: partner.is_some(),
        }
    }

    /// Milliseconds since the primary (`primary`) or the secondary was
    /// last heard at `now_ms`, if ever.
    pub fn silent_ms(&self, now_ms: u64, primary: bool) -> Option<u64> {
        self.heard_ms[usize::from(primary)].map(|t| now_ms.saturating_sub(t))
    }
}

#[cfg(test)]
mod tests;
