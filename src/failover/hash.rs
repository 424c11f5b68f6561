//! RFC 3074 load balancing: a Pearson hash of the client identity picks one
//! of 256 buckets; the primary serves buckets below `split`.

/// RFC 3074 section 6: 256 distinct values in pseudo-random order.
const MIX: [u8; 256] = [
    251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232, 31, 32, 55, 60, 152,
    58, 17, 237, 174, 70, 160, 144, 220, 90, 57, 223, 59, 3, 18, 140, 111, 166, 203, 196, 134, 243,
    124, 95, 222, 179, 197, 65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23, 97,
    16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67, 207, 9, 178, 204,
    74, 98, 126, 249, 167, 116, 34, 77, 193, 200, 121, 5, 20, 113, 71, 35, 128, 13, 182, 94, 25,
    226, 227, 199, 75, 27, 41, 245, 230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115, 241,
    73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148, 154, 122, 12, 84, 82,
    163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239, 195, 42, 106, 198, 118,
    112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164, 102, 147, 45, 66, 231,
    52, 141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189, 93, 92, 51, 53, 183, 19, 171,
    72, 50, 33, 104, 101, 69, 8, 252, 83, 120, 76, 135, 85, 54, 202, 125, 188, 213, 96, 235, 136,
    208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4, 216, 131, 89, 21, 28, 133, 37, 153,
    149, 80, 170, 68, 6, 169, 234, 151,
];

/// The RFC 3074 hash of `key` (option 61, else chaddr): the key's length
/// mixed with each byte, last byte first.
pub fn bucket(key: &[u8]) -> u8 {
    key.iter()
        .rev()
        .fold(key.len() as u8, |h, b| MIX[usize::from(h ^ b)])
}

/// Whether the primary serves `key` under `split` (buckets below it).
pub fn primary_serves(key: &[u8], split: u16) -> bool {
    u16::from(bucket(key)) < split
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_a_permutation() {
        let mut seen = [false; 256];
        for v in MIX {
            assert!(!seen[usize::from(v)]);
            seen[usize::from(v)] = true;
        }
    }

    #[test]
    fn hash_by_hand_and_split() {
        // one byte 0x00: h = 1; h = MIX[1 ^ 0] = 175
        assert_eq!(bucket(&[0]), 175);
        // two bytes [1, 2]: h = 2; h = MIX[2 ^ 2] = 251; h = MIX[251 ^ 1 = 250] = 170
        assert_eq!(bucket(&[1, 2]), 170);
        assert!(primary_serves(&[0], 256));
        assert!(!primary_serves(&[0], 0));
        assert!(!primary_serves(&[0], 175));
        assert!(primary_serves(&[0], 176));
    }

    #[test]
    fn split_divides_clients_roughly_evenly() {
        let n = (0u32..10_000)
            .filter(|i| primary_serves(&[2, 0, 0, (i >> 16) as u8, (i >> 8) as u8, *i as u8], 128))
            .count();
        assert!((4_000..6_000).contains(&n), "{n}");
    }
}
