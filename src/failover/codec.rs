//! Frames of the peer link: an unauthenticated `Hello` each way carrying a
//! fresh nonce, then every frame authenticated with HMAC-SHA256 under a
//! session key derived from the pre-shared key and both nonces, with a strict
//! per-direction sequence number. A forged, replayed, reordered or malformed
//! frame is an error; the link closes and no lease is touched.
//!
//! Length framing (and its size limit) is the transport's job; this module
//! turns one frame's bytes into one `Message` and back, purely.

use super::message::{DNS_VERSION, Message};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Largest frame either side sends or accepts.
pub const MAX_FRAME: usize = 64 * 1024;
const MAGIC: &[u8; 4] = b"TDM1";
const HELLO_LEN: usize = 4 + 2 + 1 + 32;
const TAG_LEN: usize = 32;
const SEQ_LEN: usize = 8;

/// Why a hello or frame from the partner was refused; the link closes on any of them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The hello has the wrong length, magic or role byte.
    #[error("hello is malformed")]
    BadHello,
    /// No protocol version both peers speak (`message::agree`).
    #[error("{}", super::message::agree(*.0).err().unwrap_or_default())]
    Version(u16),
    /// Both hellos claim the same role (both primary or both secondary).
    #[error("peer claims the same role as this server")]
    SameRole,
    /// The frame is shorter than a sequence number, a tag and one byte of payload.
    #[error("frame of {0} bytes is too short")]
    TooShort(usize),
    /// The frame exceeds `MAX_FRAME`.
    #[error("frame of {0} bytes exceeds the {MAX_FRAME}-byte limit")]
    TooLarge(usize),
    /// The HMAC-SHA256 tag does not verify.
    #[error("authentication failed (wrong key, or a forged or altered frame)")]
    BadTag,
    /// The sequence number is not the one after the last accepted.
    #[error("sequence {got} where {expected} was due (replayed or reordered frame)")]
    Sequence {
        /// The number due: one more than the last accepted.
        expected: u64,
        /// The number the frame carried.
        got: u64,
    },
    /// The payload is not a valid `Message` (or ours could not be encoded).
    #[error("frame does not decode: {0}")]
    Malformed(String),
}

/// The first frame each way.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The sender's `PROTOCOL_VERSION`.
    pub version: u16,
    /// Whether the sender is the primary.
    pub primary: bool,
    /// 32 random bytes, fresh for each connection, mixed into the session key so
    /// frames of an earlier session cannot be replayed.
    pub nonce: [u8; 32],
}

impl Hello {
    /// The hello's wire form: "TDM1", version (big-endian u16), role byte, nonce (39 octets).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(HELLO_LEN);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&self.version.to_be_bytes());
        b.push(u8::from(self.primary));
        b.extend_from_slice(&self.nonce);
        b
    }

    /// Reads a hello. Errors: `BadHello` for a wrong length, magic or role byte,
    /// `Version` for a partner older than any version we speak (a newer one
    /// is accepted: it speaks ours, `message::agree`).
    pub fn decode(b: &[u8]) -> Result<Hello, CodecError> {
        if b.len() != HELLO_LEN || &b[..4] != MAGIC || b[6] > 1 {
            return Err(CodecError::BadHello);
        }
        let version = u16::from_be_bytes([b[4], b[5]]);
        if super::message::agree(version).is_err() {
            return Err(CodecError::Version(version));
        }
        let mut nonce = [0u8; 32];
        nonce.copy_from_slice(&b[7..]);
        Ok(Hello {
            version,
            primary: b[6] == 1,
            nonce,
        })
    }
}

/// One direction-aware authenticated session.
pub struct Session {
    key: [u8; 32],
    primary: bool,
    /// The protocol version the two hellos agree on (the lower).
    version: u16,
    sent: u64,
    received: u64,
}

fn mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length")
}

impl Session {
    /// Derives the session from the pre-shared key and both hellos.
    pub fn new(psk: &[u8], mine: &Hello, theirs: &Hello) -> Result<Session, CodecError> {
        if mine.primary == theirs.primary {
            return Err(CodecError::SameRole);
        }
        let (p, s) = if mine.primary {
            (mine, theirs)
        } else {
            (theirs, mine)
        };
        let mut m = mac(psk);
        m.update(b"tandem peer link v1");
        m.update(&p.nonce);
        m.update(&s.nonce);
        let key: [u8; 32] = m.finalize().into_bytes().into();
        Ok(Session {
            key,
            primary: mine.primary,
            version: mine.version.min(theirs.version),
            sent: 0,
            received: 0,
        })
    }

    fn tag(&self, from_primary: bool, seq_and_payload: &[u8]) -> HmacSha256 {
        let mut m = mac(&self.key);
        m.update(&[u8::from(from_primary)]);
        m.update(seq_and_payload);
        m
    }

    /// Encodes and authenticates the next outgoing message: sequence number (u64,
    /// big-endian), postcard payload, HMAC-SHA256 tag over both and the sender's role.
    ///
    /// Errors: `Malformed` if the message cannot be encoded, `TooLarge` above `MAX_FRAME`.
    pub fn seal(&mut self, msg: &Message) -> Result<Vec<u8>, CodecError> {
        self.sent += 1;
        let mut b = self.sent.to_be_bytes().to_vec();
        let encode = |m: &Message| postcard::to_stdvec(m);
        // From protocol 6 a binding update carries its records' DNS side
        // (`Message::for_version`); the peer's messages never show it.
        let payload = match msg {
            Message::BindingUpdate { .. } if self.version >= DNS_VERSION => {
                encode(&msg.clone().for_version(self.version))
            }
            _ => encode(msg),
        }
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
        b.extend_from_slice(&payload);
        let tag = self.tag(self.primary, &b).finalize().into_bytes();
        b.extend_from_slice(&tag);
        if b.len() > MAX_FRAME {
            return Err(CodecError::TooLarge(b.len()));
        }
        Ok(b)
    }

    /// Verifies and decodes one incoming frame, which must carry the next sequence number.
    ///
    /// Errors: `TooLarge`, `TooShort`, `BadTag` (wrong key, forged or altered frame),
    /// `Sequence` (replayed, reordered or dropped frame), `Malformed`.
    pub fn open(&mut self, frame: &[u8]) -> Result<Message, CodecError> {
        if frame.len() > MAX_FRAME {
            return Err(CodecError::TooLarge(frame.len()));
        }
        if frame.len() < SEQ_LEN + TAG_LEN + 1 {
            return Err(CodecError::TooShort(frame.len()));
        }
        let (body, tag) = frame.split_at(frame.len() - TAG_LEN);
        self.tag(!self.primary, body)
            .verify_slice(tag)
            .map_err(|_| CodecError::BadTag)?;
        let seq = u64::from_be_bytes(body[..SEQ_LEN].try_into().expect("8 bytes"));
        if seq != self.received + 1 {
            return Err(CodecError::Sequence {
                expected: self.received + 1,
                got: seq,
            });
        }
        let msg = postcard::from_bytes::<Message>(&body[SEQ_LEN..])
            .map_err(|e| CodecError::Malformed(e.to_string()))?
            .normalized()
            .map_err(CodecError::Malformed)?;
        self.received = seq;
        Ok(msg)
    }
}

/// Reads a pre-shared key file: hex, at least 16 bytes.
pub fn parse_key(text: &str) -> Result<Vec<u8>, String> {
    let key = crate::config::values::parse_hex(text.trim())
        .map_err(|_| "the key file must hold hex digits (see `tandem keygen`)".to_string())?;
    if key.len() < 16 {
        return Err(format!(
            "the key is {} bytes; use at least 16 (see `tandem keygen`)",
            key.len()
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests;
