//! ISC dhcpd 4.x's lease file (dhcpd.leases) read as dhcpd reads it at
//! start: a journal of `lease ADDRESS { ... }` blocks in which the last block
//! for an address wins. The statements dhcpd writes for a lease
//! (`server/db.c` `write_lease`) are read: starts, ends, tstp, tsfp, atsfp,
//! cltt, binding state, next and rewind binding state, hardware, uid and
//! client-hostname. Every other statement is reported with its line, not
//! guessed at. A malformed value is an error naming its line.

use super::lexer::{self, Kind, Token};
use super::statements::{Statement, show, statements};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// One lease block as dhcpd wrote it; times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IscLease {
    /// The address.
    pub addr: Ipv4Addr,
    /// Line of the block's `lease` keyword.
    pub line: usize,
    /// `starts`.
    pub starts: Option<u64>,
    /// `ends`; `None` with `ends_never` for an infinite (BOOTP) lease.
    pub ends: Option<u64>,
    /// `ends never`.
    pub ends_never: bool,
    /// `tstp`: the potential expiry sent to the failover partner.
    pub tstp: Option<u64>,
    /// `tsfp`: the potential expiry the partner acknowledged.
    pub tsfp: Option<u64>,
    /// `atsfp`: the actual time sent from the partner.
    pub atsfp: Option<u64>,
    /// `cltt`: client last transaction time.
    pub cltt: Option<u64>,
    /// `binding state` (free, active, expired, released, abandoned, reset,
    /// backup, reserved, bootp).
    pub binding: String,
    /// `next binding state`.
    pub next: Option<String>,
    /// `rewind binding state`: the state before the current binding.
    pub rewind: Option<String>,
    /// `hardware TYPE ADDR`: the type name and the address octets.
    pub hardware: Option<(String, Vec<u8>)>,
    /// `uid`: the client identifier (option 61) octets.
    pub uid: Option<Vec<u8>>,
    /// `client-hostname`.
    pub hostname: Option<String>,
}

/// A statement not carried over, with its line and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Line of the statement.
    pub line: usize,
    /// The statement's words.
    pub what: String,
    /// Why it was not used.
    pub why: String,
}

/// A whole lease file: the last block for each address, in address order,
/// and what was skipped.
#[derive(Clone, Debug, Default)]
pub struct LeaseFile {
    /// The last lease block per address.
    pub leases: Vec<IscLease>,
    /// Lease blocks read, earlier versions of an address included.
    pub blocks: usize,
    /// Statements not used.
    pub skipped: Vec<Skipped>,
}

/// Why a lease file cannot be read; each names its line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LeaseFileError {
    /// An unterminated string.
    #[error(transparent)]
    Lex(#[from] lexer::LexError),
    /// Unbalanced braces or a statement without `;`.
    #[error(transparent)]
    Syntax(#[from] super::statements::SyntaxError),
    /// A value dhcpd would not have written (an address, a time, a
    /// hardware address).
    #[error("line {line}: {what}")]
    Value {
        /// The line of the value.
        line: usize,
        /// What is wrong.
        what: String,
    },
}

/// Reads a lease file. Errors: see [`LeaseFileError`]; nothing is returned
/// for a file with any error.
pub fn parse(text: &str) -> Result<LeaseFile, LeaseFileError> {
    let tokens = lexer::tokens(text)?;
    let mut file = LeaseFile::default();
    let mut last: BTreeMap<Ipv4Addr, IscLease> = BTreeMap::new();
    for s in statements(&tokens)? {
        match (word(s.head, 0), s.body) {
            (Some("lease"), Some(body)) => {
                let l = lease(&s, body, &mut file.skipped)?;
                file.blocks += 1;
                last.insert(l.addr, l);
            }
            (Some("lease6" | "ia-na" | "ia-ta" | "ia-pd"), _) => {
                skip(&mut file.skipped, &s, "DHCPv6: tandem serves DHCPv4")
            }
            (Some("host"), _) => skip(
                &mut file.skipped,
                &s,
                "a host declaration made over OMAPI: add it to tandem.toml as a [[subnet.reservation]]",
            ),
            _ => skip(&mut file.skipped, &s, "not a lease"),
        }
    }
    file.leases = last.into_values().collect();
    Ok(file)
}

fn skip(out: &mut Vec<Skipped>, s: &Statement<'_>, why: &str) {
    out.push(Skipped {
        line: s.line,
        what: show(s.head),
        why: why.into(),
    });
}

fn word(head: &[Token], i: usize) -> Option<&str> {
    match &head.get(i)?.kind {
        Kind::Word(w) => Some(w),
        _ => None,
    }
}

fn bad(line: usize, what: impl Into<String>) -> LeaseFileError {
    LeaseFileError::Value {
        line,
        what: what.into(),
    }
}

/// One `lease ADDRESS { ... }` block.
fn lease(
    s: &Statement<'_>,
    body: &[Token],
    skipped: &mut Vec<Skipped>,
) -> Result<IscLease, LeaseFileError> {
    let addr = word(s.head, 1)
        .and_then(|w| w.parse().ok())
        .filter(|_| s.head.len() == 2)
        .ok_or_else(|| bad(s.line, format!("`{}` is not `lease ADDRESS`", show(s.head))))?;
    let mut l = IscLease {
        addr,
        line: s.line,
        starts: None,
        ends: None,
        ends_never: false,
        tstp: None,
        tsfp: None,
        atsfp: None,
        cltt: None,
        binding: String::new(),
        next: None,
        rewind: None,
        hardware: None,
        uid: None,
        hostname: None,
    };
    for st in statements(body)? {
        if st.body.is_some() {
            skip(
                skipped,
                &st,
                "an event block (`on expiry`, `on release`...): tandem runs no scripts",
            );
            continue;
        }
        field(&mut l, &st, skipped)?;
    }
    if l.binding.is_empty() {
        return Err(bad(s.line, format!("lease {addr} has no `binding state`")));
    }
    Ok(l)
}

/// One statement inside a lease block.
fn field(
    l: &mut IscLease,
    st: &Statement<'_>,
    skipped: &mut Vec<Skipped>,
) -> Result<(), LeaseFileError> {
    let h = st.head;
    let words: Vec<&str> = (0..h.len()).map_while(|i| word(h, i)).collect();
    match words.as_slice() {
        ["starts", ..] => l.starts = time(st)?,
        ["ends", "never"] => l.ends_never = true,
        ["ends", ..] => l.ends = time(st)?,
        ["tstp", ..] => l.tstp = time(st)?,
        ["tsfp", ..] => l.tsfp = time(st)?,
        ["atsfp", ..] => l.atsfp = time(st)?,
        ["cltt", ..] => l.cltt = time(st)?,
        ["binding", "state", s] => l.binding = s.to_string(),
        ["next", "binding", "state", s] => l.next = Some(s.to_string()),
        ["rewind", "binding", "state", s] => l.rewind = Some(s.to_string()),
        ["hardware", kind, hw] => {
            let octets = hex_octets(hw).ok_or_else(|| {
                bad(
                    st.line,
                    format!("hardware address {hw:?} is not colon-separated hex"),
                )
            })?;
            l.hardware = Some((kind.to_string(), octets));
        }
        ["uid", ..] => l.uid = Some(octets_of(st)?),
        ["client-hostname", ..] => {
            l.hostname = Some(String::from_utf8_lossy(&octets_of(st)?).into_owned());
        }
        _ => skip(skipped, st, "not carried over: tandem keeps no such field"),
    }
    Ok(())
}

/// A time as dhcpd writes it: `W YYYY/MM/DD HH:MM:SS` (UTC), `epoch N`
/// (`db-time-format local`), or `never` (returned as `None`).
fn time(st: &Statement<'_>) -> Result<Option<u64>, LeaseFileError> {
    let h = st.head;
    let err = || bad(st.line, format!("`{}` is not a time dhcpd writes", show(h)));
    match (word(h, 1), word(h, 2), word(h, 3)) {
        (Some("never"), None, None) => Ok(None),
        (Some("epoch"), Some(n), None) => n.parse().map(Some).map_err(|_| err()),
        (Some(_weekday), Some(date), Some(clock)) if h.len() == 4 => {
            let text = format!("{}T{clock}Z", date.replace('/', "-"));
            let t = humantime::parse_rfc3339(&text).map_err(|_| err())?;
            let secs = t.duration_since(std::time::UNIX_EPOCH).map_err(|_| err())?;
            Ok(Some(secs.as_secs()))
        }
        _ => Err(err()),
    }
}

/// The octets of `uid` or `client-hostname`: a quoted string, or
/// colon-separated hex (`lease-id-format hex`).
fn octets_of(st: &Statement<'_>) -> Result<Vec<u8>, LeaseFileError> {
    let err = || {
        bad(
            st.line,
            format!("`{}` has no string or hex value", show(st.head)),
        )
    };
    match st.head.get(1).map(|t| &t.kind) {
        Some(Kind::Str(s)) if st.head.len() == 2 => Ok(s.clone()),
        Some(Kind::Word(w)) if st.head.len() == 2 => hex_octets(w).ok_or_else(err),
        _ => Err(err()),
    }
}

/// `52:54:0:12:34:56` → octets (dhcpd drops leading zeros).
pub(crate) fn hex_octets(s: &str) -> Option<Vec<u8>> {
    s.split(':')
        .map(|p| {
            let hex = (1..=2).contains(&p.len()) && p.chars().all(|c| c.is_ascii_hexdigit());
            hex.then(|| u8::from_str_radix(p, 16).ok())?
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
