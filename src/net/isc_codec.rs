//! The ISC failover TCP stream cut into messages (tokio-util's codec):
//! each message's own length field says where it ends
//! (`failover::isc::wire::frame_len`); a length ISC would refuse, or a
//! message it would refuse, ends the connection, as it does for ISC.

use crate::failover::isc::wire::{Frame, IscWireError, frame_len};
use bytes::{Buf, BytesMut};

/// Why the stream must close.
#[derive(Debug, thiserror::Error)]
pub enum IscCodecError {
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A message ISC dhcpd would refuse (it drops the connection too).
    #[error("ISC failover message: {0}")]
    Wire(#[from] IscWireError),
}

/// Frames for the ISC failover protocol on a TCP stream.
#[derive(Clone, Copy, Debug, Default)]
pub struct IscCodec;

impl tokio_util::codec::Decoder for IscCodec {
    type Item = Frame;
    type Error = IscCodecError;

    /// The next whole message, `None` until it has all arrived. Errors:
    /// a length outside 12 to 2048 octets, or what `Frame::decode` refuses.
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, IscCodecError> {
        let Some(len) = frame_len(buf)? else {
            return Ok(None);
        };
        if buf.len() < len {
            buf.reserve(len - buf.len());
            return Ok(None);
        }
        let frame = Frame::decode(&buf[..len]);
        buf.advance(len);
        Ok(Some(frame?))
    }
}

impl tokio_util::codec::Encoder<Frame> for IscCodec {
    type Error = IscCodecError;

    /// Appends `frame`'s octets. Errors: what `Frame::encode` refuses.
    fn encode(&mut self, frame: Frame, buf: &mut BytesMut) -> Result<(), IscCodecError> {
        buf.extend_from_slice(&frame.encode()?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::codec::{Decoder, Encoder};

    /// The stream a real ISC primary sent on its first connection.
    fn captured_stream() -> Vec<u8> {
        let frames = crate::failover::isc::golden_frames();
        frames
            .into_iter()
            .filter(|(who, _)| who == "primary")
            .take(30)
            .flat_map(|(_, b)| b)
            .collect()
    }

    #[test]
    fn a_captured_stream_comes_apart_in_any_pieces_and_goes_back_alike() {
        let stream = captured_stream();
        for piece in [1, 2, 5, 12, 13, 100, stream.len()] {
            let (mut codec, mut buf, mut out) = (IscCodec, BytesMut::new(), BytesMut::new());
            let mut frames = 0;
            for chunk in stream.chunks(piece) {
                buf.extend_from_slice(chunk);
                while let Some(f) = codec.decode(&mut buf).expect("ISC's own frames") {
                    codec.encode(f, &mut out).expect("encodes");
                    frames += 1;
                }
            }
            assert!(buf.is_empty() && frames == 30, "{piece}: {frames} frames");
            assert_eq!(&out[..], &stream[..], "pieces of {piece}");
        }
    }

    #[test]
    fn what_isc_refuses_ends_the_stream() {
        let mut codec = IscCodec;
        let mut huge = BytesMut::from(&[0x08, 0x01, 11, 12][..]);
        assert!(matches!(
            codec.decode(&mut huge),
            Err(IscCodecError::Wire(_))
        ));
        let mut offset_8 = BytesMut::from(&[0, 12, 11, 8, 0, 0, 0, 0, 0, 0, 0, 0][..]);
        assert!(matches!(
            codec.decode(&mut offset_8),
            Err(IscCodecError::Wire(_))
        ));
        let mut half = BytesMut::from(&[0, 12, 11][..]);
        assert!(
            matches!(codec.decode(&mut half), Ok(None)),
            "waits for the rest"
        );
    }
}
