//! Scalar config values that parse themselves during deserialization, so a
//! bad value is reported by `toml` at its exact line and column.

use serde::{Deserialize, Deserializer, de};
use std::net::Ipv4Addr;

/// A duration written as a string ("12h", "90s", "10h30m"), in whole seconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Secs(pub u64);

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s).map(Secs).map_err(de::Error::custom)
    }
}

/// A duration written as a string ("500ms", "1s"), in whole milliseconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Millis(pub u64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(s.trim())
            .map(|d| Millis(d.as_millis().min(u128::from(u64::MAX)) as u64))
            .map_err(|e| {
                de::Error::custom(format!(
                    "invalid duration {s:?} ({e}); write e.g. \"500ms\", \"1s\""
                ))
            })
    }
}

/// Parses a humantime duration ("90s", "12h", "1h30m") into whole seconds.
///
/// Errors: text humantime does not accept, or a fraction of a second.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let d = humantime::parse_duration(s.trim()).map_err(|e| {
        format!("invalid duration {s:?} ({e}); write e.g. \"90s\", \"12h\", \"1h30m\"")
    })?;
    if d.subsec_nanos() != 0 {
        return Err(format!("invalid duration {s:?}: use whole seconds"));
    }
    Ok(d.as_secs())
}

/// An IPv4 address written as a string.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Ip(pub Ipv4Addr);

impl<'de> Deserialize<'de> for Ip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.trim()
            .parse()
            .map(Ip)
            .map_err(|_| de::Error::custom(format!("invalid IPv4 address {s:?}")))
    }
}

/// An IPv4 network in CIDR notation; host bits must be zero.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// The network address (host bits zero).
    pub network: Ipv4Addr,
    /// Prefix length, 0 to 32.
    pub prefix: u8,
}

impl Cidr {
    /// The netmask as a host-order `u32` (0 for /0).
    pub fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        }
    }

    /// The netmask as an address, e.g. 255.255.0.0 for /16 (option 1's value).
    pub fn netmask(self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask())
    }

    /// Whether `a` lies in this network.
    pub fn contains(self, a: Ipv4Addr) -> bool {
        u32::from(a) & self.mask() == u32::from(self.network)
    }

    /// The all-ones broadcast address of this network (option 28's usual value).
    pub fn broadcast(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !self.mask())
    }

    /// Parses "a.b.c.d/n". Errors: malformed text, a prefix above 32, or host bits set.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let bad = || format!("invalid CIDR {s:?}; write e.g. \"10.20.0.0/16\"");
        let (a, p) = s.trim().split_once('/').ok_or_else(bad)?;
        let network: Ipv4Addr = a.parse().map_err(|_| bad())?;
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        if prefix > 32 {
            return Err(bad());
        }
        let c = Cidr { network, prefix };
        if u32::from(network) & !c.mask() != 0 {
            return Err(format!(
                "CIDR {s:?} has host bits set; the network is {}/{prefix}",
                Ipv4Addr::from(u32::from(network) & c.mask())
            ));
        }
        Ok(c)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Cidr::parse(&s).map_err(de::Error::custom)
    }
}

/// An inclusive address range "a-b" (or a CIDR, meaning all of it).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Range {
    /// First address of the range.
    pub first: Ipv4Addr,
    /// Last address of the range, included; never before `first`.
    pub last: Ipv4Addr,
}

impl Range {
    /// Number of addresses, both ends included (at least 1).
    pub fn len(self) -> u64 {
        u64::from(u32::from(self.last)) - u64::from(u32::from(self.first)) + 1
    }

    /// Always false: a range holds at least one address.
    pub fn is_empty(self) -> bool {
        false
    }

    /// Whether `a` lies in the range.
    pub fn contains(self, a: Ipv4Addr) -> bool {
        self.first <= a && a <= self.last
    }

    /// Whether the two ranges share at least one address.
    pub fn overlaps(self, o: Range) -> bool {
        self.first <= o.last && o.first <= self.last
    }
}

impl<'de> Deserialize<'de> for Range {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bad = || {
            de::Error::custom(format!(
                "invalid pool {s:?}; write \"10.0.0.10-10.0.0.200\""
            ))
        };
        if let Some((a, b)) = s.split_once('-') {
            let first: Ipv4Addr = a.trim().parse().map_err(|_| bad())?;
            let last: Ipv4Addr = b.trim().parse().map_err(|_| bad())?;
            if first > last {
                return Err(de::Error::custom(format!(
                    "pool {s:?} ends before it starts"
                )));
            }
            Ok(Range { first, last })
        } else {
            let c = Cidr::parse(&s).map_err(|_| bad())?;
            Ok(Range {
                first: c.network,
                last: c.broadcast(),
            })
        }
    }
}

/// Bytes written as hex, with or without ':' separators ("01:52:54:00:12:34:56").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hex(pub Vec<u8>);

/// Parses hex bytes, with or without ':', '-' or ' ' separators and an optional "0x".
///
/// Errors: no digits, an odd number of digits, or a non-hex character.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: String = s
        .trim()
        .chars()
        .filter(|c| *c != ':' && *c != '-' && *c != ' ')
        .collect();
    let digits = digits.strip_prefix("0x").unwrap_or(&digits);
    // Non-ASCII text is never hex, and slicing it by byte offsets would split characters.
    if digits.is_empty() || !digits.is_ascii() || !digits.len().is_multiple_of(2) {
        return Err(format!("invalid hex bytes {s:?}"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map_err(|_| format!("invalid hex bytes {s:?}"))
        })
        .collect()
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_hex(&s).map(Hex).map_err(de::Error::custom)
    }
}

/// An Ethernet MAC address "52:54:00:12:34:56".
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; 6]);

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = parse_hex(&s).map_err(de::Error::custom)?;
        <[u8; 6]>::try_from(bytes.as_slice())
            .map(Mac)
            .map_err(|_| de::Error::custom(format!("invalid MAC address {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("10h30m"), Ok(37_800));
        assert!(parse_duration("12x").is_err());
        assert!(parse_duration("1.5s").is_err());
    }

    #[test]
    fn cidr_math() {
        let c = Cidr::parse("10.20.0.0/16").unwrap();
        assert!(c.contains("10.20.255.1".parse().unwrap()));
        assert!(!c.contains("10.21.0.1".parse().unwrap()));
        assert_eq!(c.netmask(), Ipv4Addr::new(255, 255, 0, 0));
        assert_eq!(c.broadcast(), Ipv4Addr::new(10, 20, 255, 255));
        assert!(
            Cidr::parse("10.20.0.1/16")
                .unwrap_err()
                .contains("host bits")
        );
        assert!(Cidr::parse("10.20.0.0/33").is_err());
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().mask(), 0);
    }

    #[test]
    fn hex() {
        assert_eq!(parse_hex("01:aa:BB"), Ok(vec![1, 0xaa, 0xbb]));
        assert_eq!(parse_hex("01aabb"), Ok(vec![1, 0xaa, 0xbb]));
        assert!(parse_hex("1").is_err());
        assert!(parse_hex("zz").is_err());
        assert!(
            parse_hex("52:54:ȽȽ:00").is_err(),
            "non-ASCII is refused, not a panic (fuzz crash)"
        );
    }
}
