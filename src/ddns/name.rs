//! Which name a client gets in DNS, and what the reply's option 81 says
//! (RFC 4702 for the Client FQDN option, RFC 2132 section 3.14 for option
//! 12). Names are sanitised to what a DNS label can hold (RFC 1035 section
//! 2.3.1: letters, digits, hyphens) and qualified with the subnet's
//! qualifying suffix.
//!
//! A client names only its host: the first label of what it sends is kept
//! and the suffix appended, unless it sends a fully qualified name already
//! under the suffix. A client cannot register itself in a zone the
//! operator did not give it (ISC dhcpd's `ddns-hostname` default does the
//! same). An operator's reservation `hostname` with a dot is taken as the
//! whole name.

/// Option 81 flag S: the server performs the A update (RFC 4702 section 2.1).
pub const FLAG_S: u8 = 0x01;
/// Option 81 flag O: the server overrode the client's S preference.
pub const FLAG_O: u8 = 0x02;
/// Option 81 flag E: the name is in canonical wire format.
pub const FLAG_E: u8 = 0x04;
/// Option 81 flag N: the server performs no updates.
pub const FLAG_N: u8 = 0x08;

/// Longest name kept, octets of its text form (RFC 1035 section 2.3.4).
const MAX_NAME: usize = 253;

/// The Client FQDN option (81) as a client sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientFqdn {
    /// The flags octet.
    pub flags: u8,
    /// The name's labels, as sent (not yet sanitised).
    pub labels: Vec<String>,
    /// Whether the name was fully qualified (a terminating root label in
    /// wire format, a trailing dot in ASCII).
    pub qualified: bool,
}

impl ClientFqdn {
    /// Parses option 81's data (flags, RCODE1, RCODE2, name). `None` when
    /// shorter than the three fixed octets; a name that does not parse in
    /// the encoding flag E names is read as no name.
    pub fn parse(data: &[u8]) -> Option<ClientFqdn> {
        let [flags, _, _, name @ ..] = data else {
            return None;
        };
        let (labels, qualified) = if flags & FLAG_E != 0 {
            wire_labels(name).unwrap_or_default()
        } else {
            ascii_labels(name)
        };
        Some(ClientFqdn {
            flags: *flags,
            labels,
            qualified,
        })
    }
}

/// Labels of a canonical wire-format name, and whether it ended with the
/// root label. `None` when a label runs past the end.
fn wire_labels(mut b: &[u8]) -> Option<(Vec<String>, bool)> {
    let mut labels = Vec::new();
    while let [len, rest @ ..] = b {
        let len = usize::from(*len);
        if len == 0 {
            return Some((labels, true));
        }
        if len > 63 || rest.len() < len {
            return None;
        }
        labels.push(String::from_utf8_lossy(&rest[..len]).into_owned());
        b = &rest[len..];
    }
    Some((labels, false))
}

/// Labels of an ASCII name (trailing NULs dropped, as some clients send
/// them), and whether it ended with a dot.
fn ascii_labels(b: &[u8]) -> (Vec<String>, bool) {
    let text = String::from_utf8_lossy(b);
    let text = text.trim_end_matches('\0').trim();
    let qualified = text.ends_with('.');
    let labels = text
        .split('.')
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    (labels, qualified)
}

/// `label` as a DNS host label: lower case; spaces and underscores become
/// hyphens; other characters a label cannot hold are dropped; no hyphen at
/// either end; at most 63 octets. `None` if nothing is left.
pub fn sanitise_label(label: &str) -> Option<String> {
    let s: String = label
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            ' ' | '_' => Some('-'),
            _ => None,
        })
        .take(63)
        .collect();
    let s = s.trim_matches('-');
    (!s.is_empty()).then(|| s.to_owned())
}

/// `suffix` checked and normalised: lower case, no trailing dot, each
/// label a valid host label. Errors: the label that is not.
pub fn normalise_suffix(suffix: &str) -> Result<String, String> {
    let s = suffix.trim_end_matches('.').to_ascii_lowercase();
    for l in s.split('.') {
        if sanitise_label(l).as_deref() != Some(l) {
            return Err(format!(
                "\"{suffix}\" is not a domain name: label \"{l}\" (letters, digits and inner hyphens, 1 to 63 octets)"
            ));
        }
    }
    if s.len() > MAX_NAME - 2 {
        return Err(format!("\"{suffix}\" is longer than a domain name may be"));
    }
    Ok(s)
}

/// The fully qualified name for a client: its host label under `suffix`,
/// or its own fully qualified name when that lies under `suffix`. `None`
/// when no label survives sanitising, when there is no suffix to qualify
/// a host label with, or when the name would be too long.
pub fn qualify(labels: &[String], qualified: bool, suffix: Option<&str>) -> Option<String> {
    let clean: Option<Vec<String>> = labels.iter().map(|l| sanitise_label(l)).collect();
    let clean = clean.filter(|c| !c.is_empty())?;
    let whole = clean.join(".");
    let suffix = suffix?;
    let name = if qualified && whole.ends_with(&format!(".{suffix}")) {
        whole
    } else {
        format!("{}.{suffix}", clean[0])
    };
    (name.len() <= MAX_NAME).then_some(name)
}

/// The name a reservation gives: with a dot, the operator's whole name;
/// without, its host label under `suffix`.
pub fn reserved_name(hostname: &str, suffix: Option<&str>) -> Option<String> {
    if hostname.trim_end_matches('.').contains('.') {
        let labels: Vec<String> = hostname
            .trim_end_matches('.')
            .split('.')
            .map(str::to_owned)
            .collect();
        let clean: Option<Vec<String>> = labels.iter().map(|l| sanitise_label(l)).collect();
        return clean.map(|c| c.join(".")).filter(|n| n.len() <= MAX_NAME);
    }
    qualify(&[hostname.to_owned()], false, suffix)
}

/// The server's answer to a client's option 81: the flags it sets
/// (RFC 4702 section 4) and whether it updates the A and PTR records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The reply's flags octet (S, O, N; E as the client sent it).
    pub flags: u8,
    /// The server keeps the A (and DHCID) record.
    pub forward: bool,
    /// The server keeps the PTR record.
    pub reverse: bool,
}

/// The answer to client `flags` (RFC 4702 section 4), with the operator's
/// overrides: `override_client_update` (the server does the A update
/// although the client asked to, Kea's `ddns-override-client-update`) and
/// `override_no_update` (the server updates although the client asked for
/// none, Kea's `ddns-override-no-update`).
pub fn answer(flags: u8, override_client_update: bool, override_no_update: bool) -> Answer {
    let e = flags & FLAG_E;
    if flags & FLAG_N != 0 && !override_no_update {
        return Answer {
            flags: FLAG_N | e,
            forward: false,
            reverse: false,
        };
    }
    let asked = flags & FLAG_S != 0 && flags & FLAG_N == 0;
    let forward = asked || override_client_update || flags & FLAG_N != 0;
    let overridden = forward && !asked;
    Answer {
        flags: e | if forward { FLAG_S } else { 0 } | if overridden { FLAG_O } else { 0 },
        forward,
        reverse: true,
    }
}

/// Option 81's data for a reply: `flags`, RCODE1 and RCODE2 at 255 (RFC
/// 4702 section 4), and `fqdn` fully qualified, in wire format when flag E
/// is set, else in ASCII with a trailing dot.
pub fn reply_option(flags: u8, fqdn: &str) -> Vec<u8> {
    let mut b = vec![flags, 255, 255];
    if flags & FLAG_E != 0 {
        for l in fqdn.split('.') {
            b.push(l.len() as u8);
            b.extend_from_slice(l.as_bytes());
        }
        b.push(0);
    } else {
        b.extend_from_slice(fqdn.as_bytes());
        b.push(b'.');
    }
    b
}

#[cfg(test)]
#[path = "name_tests.rs"]
mod tests;
