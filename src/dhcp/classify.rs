//! Which client classes a request belongs to (`[[class]]`): each class's
//! match table against options 60, 77 and 93, the hardware address, the
//! relay agent's circuit and remote ids (option 82 sub-options 1 and 2,
//! RFC 3046) and whether the client has a reservation. Pure: the same
//! request and configuration give the same classes on both peers.

use crate::config::{Class, ClassRule, Config};
use crate::proto::{Request, code};

/// The classes `req` belongs to, in file order; `known` says whether the
/// client has a reservation on its link.
pub fn classes_of<'c>(config: &'c Config, req: &Request, known: bool) -> Vec<&'c Class> {
    config
        .classes
        .iter()
        .filter(|c| matches(&c.rule, req, known))
        .collect()
}

/// Whether `req` satisfies every criterion `rule` gives.
pub fn matches(rule: &ClassRule, req: &Request, known: bool) -> bool {
    let vendor = req.option(code::VENDOR_CLASS);
    let any = |values: &[Vec<u8>], f: &dyn Fn(&[u8]) -> bool| {
        values.is_empty() || values.iter().any(|v| f(v))
    };
    any(&rule.vendor_class, &|v| vendor == Some(v))
        && any(&rule.vendor_class_prefix, &|v| {
            vendor.is_some_and(|o| o.starts_with(v))
        })
        && any(&rule.user_class, &|v| user_class_has(req, v))
        && (rule.arch.is_empty() || arches(req).any(|a| rule.arch.contains(&a)))
        && any(&rule.mac_prefix, &|v| req.hw.bytes().starts_with(v))
        && any(&rule.circuit_id, &|v| {
            relay_sub(req, code::RELAY_CIRCUIT_ID) == Some(v)
        })
        && any(&rule.remote_id, &|v| {
            relay_sub(req, code::RELAY_REMOTE_ID) == Some(v)
        })
        && rule.known.is_none_or(|k| k == known)
}

/// Option 82 sub-option `sub`, only from a relay: a directly attached
/// client could write its own option 82 to join a class.
fn relay_sub(req: &Request, sub: u8) -> Option<&[u8]> {
    req.is_relayed()
        .then(|| req.relay_sub_option(sub))
        .flatten()
}

/// Whether option 77 is `v`, whole (as iPXE and many embedded clients send
/// it) or as one of its RFC 3004 length-prefixed instances.
fn user_class_has(req: &Request, v: &[u8]) -> bool {
    let Some(o) = req.option(code::USER_CLASS) else {
        return false;
    };
    if o == v {
        return true;
    }
    let mut rest = o;
    while let [len, tail @ ..] = rest {
        let len = usize::from(*len);
        let Some(instance) = tail.get(..len) else {
            return false;
        };
        if instance == v {
            return true;
        }
        rest = &tail[len..];
    }
    false
}

/// The architecture types in option 93 (a list of 16-bit values, RFC 4578
/// section 2.1); a trailing odd octet is ignored.
fn arches(req: &Request) -> impl Iterator<Item = u16> + '_ {
    req.option(code::CLIENT_ARCH)
        .unwrap_or_default()
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
}

#[cfg(test)]
mod tests;
