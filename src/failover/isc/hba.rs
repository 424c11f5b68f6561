//! ISC's hash bucket assignment (the CONNECT's 32-octet option 11) and
//! tandem's `split`. ISC hashes a client with the RFC 3074 table tandem
//! uses (`failover::hash`; ISC's `loadb_mx_tbl` is the same permutation)
//! and tests bucket `b` as bit `b & 7` of octet `b >> 3`, least bit
//! first; a set bit is the primary's (research section 3.4, inverted
//! from the draft). ISC's `split N` sets buckets 0 to N-1: tandem's
//! `split`, which gives the primary the buckets below it.

/// Octets in a hash bucket assignment.
pub const HBA_LEN: usize = 32;

/// The assignment ISC's `split` (0 to 256) makes: buckets below it set.
pub fn from_split(split: u16) -> [u8; HBA_LEN] {
    let mut hba = [0; HBA_LEN];
    for b in 0..split.min(256) {
        hba[usize::from(b >> 3)] |= 1 << (b & 7);
    }
    hba
}

/// The `split` an assignment amounts to, if it is one (its set buckets
/// are exactly those below some number); `None` for another pattern
/// (ISC's `hba` statement can set any) or a length other than 32.
pub fn to_split(hba: &[u8]) -> Option<u16> {
    let set = |b: u16| hba[usize::from(b >> 3)] & (1 << (b & 7)) != 0;
    if hba.len() != HBA_LEN {
        return None;
    }
    let split = (0..256).find(|b| !set(*b)).unwrap_or(256);
    (split..256).all(|b| !set(b)).then_some(split)
}

/// Whether ISC's primary serves the client with identity `key` (option 61,
/// else chaddr without its hardware type) under `hba`.
pub fn primary_serves(hba: &[u8; HBA_LEN], key: &[u8]) -> bool {
    let b = crate::failover::hash::bucket(key);
    hba[usize::from(b >> 3)] & (1 << (b & 7)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_assignment_agree_both_ways() {
        for split in [0, 1, 7, 8, 9, 128, 200, 255, 256] {
            let hba = from_split(split);
            assert_eq!(to_split(&hba), Some(split));
            for i in 0u32..2000 {
                let key = [1, 0, 0x5e, (i >> 16) as u8, (i >> 8) as u8, i as u8];
                let tandem = crate::failover::hash::primary_serves(&key, split);
                assert_eq!(primary_serves(&hba, &key), tandem, "split {split}");
            }
        }
        let mut holes = from_split(128);
        holes[31] = 0x80;
        assert_eq!(to_split(&holes), None, "not a split");
        assert_eq!(to_split(&[0xff; 16]), None, "16 octets");
    }

    #[test]
    fn split_128_is_what_a_real_isc_primary_sent() {
        let mut hba = [0u8; HBA_LEN];
        hba[..16].fill(0xff);
        assert_eq!(from_split(128), hba, "the CONNECT in tests/fixtures/isc");
    }
}
