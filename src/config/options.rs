//! Option values from config, encoded once at load into the bytes that go on
//! the wire, so the packet path only copies.

use super::values::{Cidr, parse_hex};
use std::net::Ipv4Addr;

/// One configured option, ready to append to a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionValue {
    /// Option code (RFC 2132 numbering).
    pub code: u8,
    /// Option payload as it goes on the wire, without code and length octets.
    pub data: Vec<u8>,
    /// Sent even when the client's parameter request list does not name it.
    pub always_send: bool,
}

/// Codes the server manages itself; config may not set them.
pub const RESERVED_CODES: &[u8] = &[0, 50, 51, 52, 53, 54, 55, 57, 58, 59, 61, 82, 255];

/// Encodes `value` as option `kind` ("ipv4", "u16-list", ...).
pub fn encode(kind: &str, value: &toml::Value) -> Result<Vec<u8>, String> {
    if let Some(elem) = kind.strip_suffix("-list") {
        let items = value
            .as_array()
            .ok_or_else(|| format!("type {kind:?} needs an array value"))?;
        if items.is_empty() {
            return Err("an empty list sends nothing; remove the option instead".into());
        }
        let mut out = Vec::new();
        for item in items {
            out.extend(encode_one(elem, item)?);
        }
        return Ok(out);
    }
    if value.is_array() && kind != "hex" {
        return Err(format!(
            "type {kind:?} takes one value; use \"{kind}-list\" for several"
        ));
    }
    encode_one(kind, value)
}

fn encode_one(kind: &str, v: &toml::Value) -> Result<Vec<u8>, String> {
    let int = |lo: i64, hi: i64| -> Result<i64, String> {
        let n = v
            .as_integer()
            .ok_or_else(|| format!("type {kind:?} needs an integer"))?;
        if n < lo || n > hi {
            return Err(format!("{n} is out of range for {kind} ({lo}..={hi})"));
        }
        Ok(n)
    };
    let string = || {
        v.as_str()
            .ok_or_else(|| format!("type {kind:?} needs a string"))
    };
    Ok(match kind {
        "ipv4" => {
            let s = string()?;
            let a: Ipv4Addr = s
                .parse()
                .map_err(|_| format!("invalid IPv4 address {s:?}"))?;
            a.octets().to_vec()
        }
        "u8" => vec![int(0, 255)? as u8],
        "u16" => (int(0, 65_535)? as u16).to_be_bytes().to_vec(),
        "u32" => (int(0, u32::MAX as i64)? as u32).to_be_bytes().to_vec(),
        "i32" => (int(i32::MIN as i64, i32::MAX as i64)? as i32)
            .to_be_bytes()
            .to_vec(),
        "bool" => vec![u8::from(
            v.as_bool().ok_or("type \"bool\" needs true or false")?,
        )],
        "string" => {
            let s = string()?;
            if s.is_empty() {
                return Err("an empty string is not a valid option value".into());
            }
            s.as_bytes().to_vec()
        }
        "fqdn" => encode_fqdn(string()?)?,
        "hex" => parse_hex(string()?)?,
        other => {
            return Err(format!(
                "unknown option type {other:?}; use ipv4, u8, u16, u32, i32, bool, string, fqdn, hex or <type>-list"
            ));
        }
    })
}

/// A domain name in DNS wire format (RFC 1035 labels), as options 119 and 81 carry it.
pub fn encode_fqdn(name: &str) -> Result<Vec<u8>, String> {
    let name = name.trim_end_matches('.');
    if name.is_empty() || name.len() > 253 {
        return Err(format!("invalid domain name {name:?}"));
    }
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("invalid domain name {name:?}: bad label {label:?}"));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(out)
}

/// Option 121 (RFC 3442): destination prefix length, significant octets, router.
pub fn encode_classless_routes(routes: &[(Cidr, Ipv4Addr)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (dest, via) in routes {
        out.push(dest.prefix);
        let significant = usize::from(dest.prefix).div_ceil(8);
        out.extend_from_slice(&dest.network.octets()[..significant]);
        out.extend_from_slice(&via.octets());
    }
    out
}

/// The addresses' octets back to back, as options 3, 6 and 42 carry them.
pub fn encode_addrs(addrs: &[Ipv4Addr]) -> Vec<u8> {
    addrs.iter().flat_map(|a| a.octets()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(s: &str) -> toml::Value {
        toml::from_str::<toml::Table>(&format!("v = {s}")).unwrap()["v"].clone()
    }

    #[test]
    fn encodes_types() {
        assert_eq!(
            encode("ipv4-list", &val(r#"["10.0.0.5", "10.0.0.6"]"#)).unwrap(),
            vec![10, 0, 0, 5, 10, 0, 0, 6]
        );
        assert_eq!(encode("u16", &val("1500")).unwrap(), vec![5, 220]);
        assert_eq!(encode("i32", &val("-1")).unwrap(), vec![255; 4]);
        assert_eq!(encode("bool", &val("true")).unwrap(), vec![1]);
        assert_eq!(
            encode("fqdn", &val(r#""a.bc""#)).unwrap(),
            vec![1, b'a', 2, b'b', b'c', 0]
        );
        assert_eq!(encode("hex", &val(r#""01:02""#)).unwrap(), vec![1, 2]);
        assert!(
            encode("u8", &val("256"))
                .unwrap_err()
                .contains("out of range")
        );
        assert!(encode("ipv4", &val(r#"["10.0.0.1"]"#)).is_err());
        assert!(
            encode("blob", &val("1"))
                .unwrap_err()
                .contains("unknown option type")
        );
    }

    #[test]
    fn classless_routes_rfc3442_examples() {
        let r = [
            (
                Cidr::parse("0.0.0.0/0").unwrap(),
                Ipv4Addr::new(10, 0, 0, 1),
            ),
            (
                Cidr::parse("10.17.0.0/16").unwrap(),
                Ipv4Addr::new(10, 0, 0, 2),
            ),
            (
                Cidr::parse("10.27.129.0/24").unwrap(),
                Ipv4Addr::new(10, 0, 0, 3),
            ),
        ];
        assert_eq!(
            encode_classless_routes(&r),
            vec![
                0, 10, 0, 0, 1, 16, 10, 17, 10, 0, 0, 2, 24, 10, 27, 129, 10, 0, 0, 3
            ]
        );
    }
}
