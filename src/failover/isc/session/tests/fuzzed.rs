//! Any run of the captured frames, with the peer's moves between them,
//! through the fuzz target's driver.

use super::*;

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// The fuzz target's driver (`fuzzing::isc_frames`) on the captured
    /// primary's handshake, then any of the captured frames with any
    /// clock, and the peer's moves between them: the state guard,
    /// balancing, refusals, held re-offers and the send window never
    /// panic. A captured BNDACK answers one of our first 32 BNDUPDs (our
    /// transaction ids), so that refusals and the window are reached; a
    /// captured STATE says any of ISC's states, so that the guard meets
    /// CONFLICT-DONE and POTENTIAL-CONFLICT.
    #[test]
    fn no_run_of_captured_frames_and_peer_moves_panics(
        picks in proptest::collection::vec((0usize..64, proptest::prelude::any::<u32>(), 0u32..40), 1..60)
    ) {
        let golden: Vec<Frame> = golden_frames()
            .into_iter()
            .map(|(_, b)| Frame::decode(&b).expect("decodes"))
            .collect();
        let opening = captured("primary");
        let mut t = opening[0].time;
        let mut bytes: Vec<u8> = opening[..2].iter().flat_map(|f| f.encode().unwrap()).collect();
        for (i, xid, dt) in picks {
            let mut f = golden[i % golden.len()].clone();
            t = t.saturating_add(dt);
            (f.time, f.xid) = (t, xid);
            if f.kind == MessageType::BndAck {
                f.xid = xid % 32;
            }
            if f.kind == MessageType::State {
                const ISC_STATES: [u8; 10] = [2, 3, 4, 5, 6, 8, 9, 10, 11, 254];
                let n = ISC_STATES[xid as usize % ISC_STATES.len()];
                f = state_frame(n, (xid >> 8) as u8 & 1, Time(u64::from(t)), xid);
            }
            bytes.extend(f.encode().unwrap_or_default());
        }
        crate::fuzzing::isc_frames(&bytes);
    }
}
