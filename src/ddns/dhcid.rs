//! The DHCID record (RFC 4701): which client a name in DNS belongs to, so
//! that a server updates or removes only its own clients' names (RFC 4703).

use sha2::{Digest, Sha256};

/// The DHCID resource record type (RFC 4701 section 3.1).
pub const DHCID_TYPE: u16 = 49;

/// Identifier type 0x0000: htype and chaddr (RFC 4701 section 3.3).
const BY_CHADDR: u16 = 0;
/// Identifier type 0x0001: the DHCPv4 client identifier option's data.
const BY_CLIENT_ID: u16 = 1;
/// Identifier type 0x0002: a DUID (RFC 4361 client identifiers carry one).
const BY_DUID: u16 = 2;
/// Digest type 1: SHA-256.
const SHA256: u8 = 1;

/// The DHCID RDATA (35 octets) for a client and `fqdn` (text, without the
/// trailing dot). The client is its option 61 (`client_id`, type octet
/// included) when it sent one, else `htype` and `chaddr`. An RFC 4361
/// client identifier (type 255: IAID, then DUID) is identified by its DUID,
/// as RFC 4701 section 3.3 asks, so that its DHCPv6 name is the same.
pub fn rdata(client_id: Option<&[u8]>, htype: u8, chaddr: &[u8], fqdn: &str) -> Vec<u8> {
    let (kind, id): (u16, Vec<u8>) = match client_id {
        Some([255, _, _, _, _, duid @ ..]) if !duid.is_empty() => (BY_DUID, duid.to_vec()),
        Some(cid) => (BY_CLIENT_ID, cid.to_vec()),
        None => (BY_CHADDR, [&[htype][..], chaddr].concat()),
    };
    let mut h = Sha256::new();
    h.update(&id);
    h.update(wire_name(fqdn));
    let mut out = kind.to_be_bytes().to_vec();
    out.push(SHA256);
    out.extend_from_slice(&h.finalize());
    out
}

/// The DHCID RDATA for the client of lease record `l` and `fqdn`.
pub fn for_lease(l: &crate::lease::Lease, fqdn: &str) -> Vec<u8> {
    rdata(l.client_id.as_deref(), l.hw.htype, l.hw.bytes(), fqdn)
}

/// `fqdn` (text, no trailing dot) in canonical wire format: lower case
/// labels, each after its length, then the root label (RFC 4034 section 6.2).
fn wire_name(fqdn: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(fqdn.len() + 2);
    for l in fqdn.split('.').filter(|l| !l.is_empty()) {
        b.push(l.len() as u8);
        b.extend(l.bytes().map(|c| c.to_ascii_lowercase()));
    }
    b.push(0);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4701 section 3.6.2: chaddr 01:02:03:04:05:06, htype 1, name
    /// client.example.com: AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY=
    #[test]
    fn rfc_4701_example_by_chaddr() {
        let r = rdata(None, 1, &[1, 2, 3, 4, 5, 6], "client.example.com");
        assert_eq!(
            base64(&r),
            "AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY="
        );
    }

    /// RFC 4701 section 3.6.3: client identifier 01:07:08:09:0a:0b:0c, name
    /// chi.example.com: AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No=
    #[test]
    fn rfc_4701_example_by_client_id() {
        let r = rdata(Some(&[1, 7, 8, 9, 10, 11, 12]), 1, &[], "chi.example.com");
        assert_eq!(
            base64(&r),
            "AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No="
        );
    }

    #[test]
    fn case_does_not_change_the_digest() {
        assert_eq!(
            rdata(None, 1, &[1; 6], "PC.Example"),
            rdata(None, 1, &[1; 6], "pc.example")
        );
    }

    fn base64(b: &[u8]) -> String {
        data_encoding::BASE64.encode(b)
    }
}
