//! The size and range rules of every DHCP option code tandem knows, from
//! RFC 2132 and the later RFCs that define options; a configured value for a
//! known code must fit its rule whatever `type` it was written with. Codes
//! not listed here are taken as given through the typed `[[subnet.option]]`
//! form.

/// How one option's data must look on the wire.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Spec {
    /// Exactly one IPv4 address.
    Addr,
    /// IPv4 addresses, at least `min`, in groups of `group` (2 for the
    /// address/mask or destination/router pairs of options 21 and 33).
    Addrs { min: usize, group: usize },
    /// One unsigned 8-bit value in `lo..=hi`.
    U8 { lo: u8, hi: u8 },
    /// One unsigned 16-bit value in `lo..=hi`.
    U16 { lo: u16, hi: u16 },
    /// A list of unsigned 16-bit values, each at least `lo`.
    U16s { lo: u16 },
    /// One 32-bit value (signed or not: any bits).
    U32,
    /// A flag: one octet, 0 or 1.
    Flag,
    /// Text of at least one octet (NVT ASCII in RFC 2132; not checked).
    Text,
    /// Octets, at least `min`; with `exact`, exactly that many.
    Bytes { min: usize, exact: bool },
}

use Spec::*;

/// At least `min` octets of any content.
const fn at_least(min: usize) -> Spec {
    Bytes { min, exact: false }
}

/// Exactly `min` octets of any content.
const fn exactly(min: usize) -> Spec {
    Bytes { min, exact: true }
}

/// One 16-bit value of at least `lo`.
const fn u16_from(lo: u16) -> Spec {
    U16 { lo, hi: u16::MAX }
}

/// IPv4 addresses, at least one.
const ADDRS: Spec = Addrs { min: 1, group: 1 };

/// Address pairs (options 21 and 33), at least one pair.
const PAIRS: Spec = Addrs { min: 2, group: 2 };

/// Every known option: its codes, its rule, and the RFC (and section) that
/// sets the rule.
const SPECS: &[(&[u8], Spec, &str)] = &[
    (&[1], Addr, "RFC 2132 section 3.3"),
    (&[2], U32, "RFC 2132 section 3.4"),
    (
        &[3, 4, 5, 6, 7, 8, 9, 10, 11],
        ADDRS,
        "RFC 2132 sections 3.5-3.13",
    ),
    (&[12], Text, "RFC 2132 section 3.14"),
    (&[13], u16_from(0), "RFC 2132 section 3.15"),
    (&[14, 15, 17, 18], Text, "RFC 2132 sections 3.16-3.20"),
    (&[16], Addr, "RFC 2132 section 3.18"),
    (&[19, 20], Flag, "RFC 2132 sections 4.1-4.2"),
    (&[21], PAIRS, "RFC 2132 section 4.3"),
    (&[22], u16_from(576), "RFC 2132 section 4.4"),
    (&[23], U8 { lo: 1, hi: 255 }, "RFC 2132 section 4.5"),
    (&[24], U32, "RFC 2132 section 4.6"),
    (&[25], U16s { lo: 68 }, "RFC 2132 section 4.7"),
    (&[26], u16_from(68), "RFC 2132 section 5.1"),
    (&[27, 29, 30, 31], Flag, "RFC 2132 sections 5.2-5.6"),
    (&[28, 32], Addr, "RFC 2132 sections 5.3, 5.7"),
    (&[33], PAIRS, "RFC 2132 section 5.8"),
    (&[34, 36, 39], Flag, "RFC 2132 sections 6.1, 6.3, 7.3"),
    (&[35, 38], U32, "RFC 2132 sections 6.2, 7.2"),
    (&[37], U8 { lo: 1, hi: 255 }, "RFC 2132 section 7.1"),
    (
        &[40, 47, 64, 66, 67],
        Text,
        "RFC 2132 sections 8.1, 8.7, 8.11, 9.4, 9.5",
    ),
    (
        &[41, 42, 44, 45, 48, 49, 65, 69, 70, 71, 72, 73, 74, 75, 76],
        ADDRS,
        "RFC 2132 sections 8.2-8.14",
    ),
    (&[43], at_least(1), "RFC 2132 section 8.4"),
    (&[46], U8 { lo: 1, hi: 8 }, "RFC 2132 section 8.7"),
    (&[56], Text, "RFC 2132 section 9.9"),
    (&[60], at_least(1), "RFC 2132 section 9.13"),
    (&[62], Text, "RFC 2242"),
    (&[63], at_least(1), "RFC 2242"),
    (&[68], Addrs { min: 0, group: 1 }, "RFC 2132 section 8.15"),
    (&[78, 79], at_least(1), "RFC 2610"),
    (&[81], at_least(3), "RFC 4702"),
    (&[85], ADDRS, "RFC 2241"),
    (&[86, 87], Text, "RFC 2241"),
    (&[89], ADDRS, "RFC 4280"),
    (&[93], U16s { lo: 0 }, "RFC 4578"),
    (&[94], exactly(3), "RFC 4578"),
    (&[97], exactly(17), "RFC 4578"),
    (&[100, 101, 114], Text, "RFC 4833, RFC 8910"),
    (&[108], U32, "RFC 8925"),
    (&[116], U8 { lo: 0, hi: 1 }, "RFC 2563"),
    (&[117], U16s { lo: 0 }, "RFC 2937"),
    (&[118], Addr, "RFC 3011"),
    (&[119, 137, 141, 213], at_least(2), "RFC 3397"),
    (&[120], at_least(2), "RFC 3361"),
    (&[121], at_least(5), "RFC 3442"),
    (&[123], exactly(16), "RFC 6225"),
    (&[124, 125], at_least(5), "RFC 3925"),
    (&[136, 138, 142, 150], ADDRS, "RFC 5192, 5417, 6153, 5859"),
    (&[209, 210], Text, "RFC 5071"),
    (&[211], U32, "RFC 5071"),
    (&[212], at_least(22), "RFC 5969"),
];

/// The rule for `code`, with the RFC (and section) that sets it; `None`
/// for a code tandem has no rule for.
fn spec(code: u8) -> Option<(Spec, &'static str)> {
    SPECS
        .iter()
        .find(|(codes, _, _)| codes.contains(&code))
        .map(|&(_, spec, rfc)| (spec, rfc))
}

/// Checks `data` as the value of option `code`; unknown codes pass.
/// Returns a message naming the rule and its RFC on failure.
pub fn check(code: u8, data: &[u8]) -> Result<(), String> {
    let Some((spec, rfc)) = spec(code) else {
        return Ok(());
    };
    check_spec(spec, data).map_err(|e| format!("option {code}: {e} ({rfc})"))
}

fn check_spec(spec: Spec, d: &[u8]) -> Result<(), String> {
    let len = d.len();
    let be16 = |i: usize| u16::from_be_bytes([d[i], d[i + 1]]);
    match spec {
        Addr if len != 4 => Err(format!("takes one IPv4 address (4 octets), not {len}")),
        Addrs { min, group } if !len.is_multiple_of(4 * group) || len / 4 < min => {
            Err(match group {
                1 => format!("takes IPv4 addresses (at least {min}), not {len} octets"),
                _ => format!(
                    "takes pairs of IPv4 addresses (at least {}), so a multiple of {} octets, not {len}",
                    min / group,
                    4 * group
                ),
            })
        }
        U8 { .. } if len != 1 => Err(format!("takes one octet, not {len}")),
        U8 { lo, hi } if !(lo..=hi).contains(&d[0]) => {
            Err(format!("must be {lo} to {hi}, not {}", d[0]))
        }
        U16 { .. } if len != 2 => Err(format!("takes a 16-bit value (2 octets), not {len}")),
        U16 { lo, hi } if !(lo..=hi).contains(&be16(0)) => {
            Err(format!("must be {lo} to {hi}, not {}", be16(0)))
        }
        U16s { .. } if len == 0 || !len.is_multiple_of(2) => Err(format!(
            "takes 16-bit values (2 octets each), not {len} octets"
        )),
        U16s { lo } => match (0..len).step_by(2).map(be16).find(|v| *v < lo) {
            Some(v) => Err(format!("every value must be at least {lo}, not {v}")),
            None => Ok(()),
        },
        U32 if len != 4 => Err(format!("takes a 32-bit value (4 octets), not {len}")),
        Flag if len != 1 || d[0] > 1 => Err("takes a flag: one octet, 0 or 1".into()),
        Text if len == 0 => Err("takes text of at least one octet".into()),
        Bytes { min, exact: true } if len != min => {
            Err(format!("takes exactly {min} octets, not {len}"))
        }
        Bytes { min, .. } if len < min => Err(format!("takes at least {min} octets, not {len}")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn rfc_2132_limits() {
        assert!(check(23, &[0]).unwrap_err().contains("1 to 255"));
        assert!(check(23, &[64]).is_ok());
        assert!(check(37, &[0]).is_err());
        assert!(check(22, &575u16.to_be_bytes()).is_err());
        assert!(check(22, &576u16.to_be_bytes()).is_ok());
        assert!(check(26, &67u16.to_be_bytes()).is_err());
        assert!(check(26, &[5, 220]).is_ok());
        assert!(check(21, &[10, 0, 0, 0, 255, 0, 0, 0, 10, 1, 0, 0]).is_err());
        assert!(check(33, &[10, 0, 0, 0]).unwrap_err().contains("pairs"));
        assert!(check(33, &[10, 0, 0, 0, 10, 0, 0, 1]).is_ok());
        assert!(check(3, &[10, 0, 0]).is_err());
        assert!(check(19, &[2]).is_err());
        assert!(check(25, &[0, 67]).is_err());
        assert!(check(46, &[9]).is_err());
        assert!(check(97, &[0; 16]).is_err());
        assert!(check(200, &[]).is_ok(), "unknown codes are taken as given");
    }
}
