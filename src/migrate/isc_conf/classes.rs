//! dhcpd.conf `class` statements with one `match if` test of a common form,
//! as `[[class]]` match tables: option 60 whole or its start (`substring(…,
//! 0, N)`), option 77, option 93 (`pxe-system-type` or a user-defined
//! `arch`), a hardware prefix (`substring(hardware, 1, N)`), and the relay's
//! circuit or remote id; `exists X and` before the test is dropped. Any
//! other expression is reported, never guessed at.

use super::options::{self, Mapped};
use super::statements::Statement;
use super::{Kind, Params, Skipped, Token, Walk, kv, param, quoted};
use std::fmt::Write;

/// One translated class.
#[derive(Clone, Debug)]
pub(super) struct IscClass {
    pub name: String,
    pub line: usize,
    /// The match table key and its TOML value (`vendor_class_prefix = ["PXE"]`).
    pub rule: (&'static str, String),
    /// Its `filename`, `next-server`, `server-name` and options.
    pub params: Params,
}

/// `class "NAME" { match if ...; ... }`, translated or reported.
pub(super) fn class(w: &mut Walk, s: &Statement<'_>, body: &[Statement<'_>]) {
    let name = match s.head.get(1).map(|t| &t.kind) {
        Some(Kind::Str(v)) => String::from_utf8_lossy(v).into_owned(),
        Some(Kind::Word(v)) => v.clone(),
        _ => return w.skip(s, "a class without a name"),
    };
    let mut rule = None;
    let mut params = Params::default();
    for st in body {
        let words = |i: usize| match st.head.get(i).map(|t| &t.kind) {
            Some(Kind::Word(v)) => Some(v.as_str()),
            _ => None,
        };
        match (words(0), words(1), st.body) {
            (Some("match"), Some("if"), None) => match rule_of(&st.head[2..]) {
                Some(r) => rule = Some(r),
                None => w.skip(st, "a match expression of a form tandem does not translate: write it as [[class]] keys (docs/MIGRATION.md)"),
            },
            (Some("match"), ..) | (Some("spawn"), ..) | (Some("lease"), ..) => w.skip(
                st,
                "subclasses and spawning are not translated: list their values in one [[class]] key",
            ),
            (_, _, None) => param(w, st, &mut params),
            _ => w.skip(st, "no tandem equivalent inside a class"),
        }
    }
    match rule {
        Some(rule) => w.classes.push(IscClass {
            name,
            line: s.line,
            rule,
            params,
        }),
        None => w.skip(
            s,
            "a class without a translatable match: write it as a [[class]] (docs/MIGRATION.md)",
        ),
    }
}

/// The tokens of an expression with spaces only between two words:
/// `substring(option vendor-class-identifier,0,4)="PXE"`.
fn compact(tokens: &[Token]) -> String {
    let mut out = String::new();
    let mut last_word = false;
    for t in tokens {
        match &t.kind {
            Kind::Word(v) => {
                if last_word {
                    out.push(' ');
                }
                out.push_str(v);
                last_word = true;
            }
            Kind::Str(v) => {
                out.push_str(&quoted(&String::from_utf8_lossy(v)));
                last_word = false;
            }
            Kind::Punct(c) => {
                out.push(*c);
                last_word = false;
            }
        }
    }
    out.replace(" (", "(").replace("( ", "(").replace(" )", ")")
}

/// The match table key and TOML value for one `match if` test.
fn rule_of(tokens: &[Token]) -> Option<(&'static str, String)> {
    let eq = tokens.iter().position(|t| t.kind == Kind::Punct('='))?;
    let value = Value::parse(&tokens[eq + 1..])?;
    let lhs = compact(&tokens[..eq]);
    // `exists X and option X = ...`: the test implies the existence; an
    // `exists` of another option would be a second condition, not translated.
    let lhs = match lhs.strip_prefix("exists ") {
        Some(rest) => {
            let (opt, test) = rest.split_once(" and ")?;
            if !test.contains(opt) {
                return None;
            }
            test.to_string()
        }
        None => lhs,
    };
    let substring = |what: &str, from: &str| {
        let inner = lhs.strip_prefix(&format!("substring({what},{from},"))?;
        inner.strip_suffix(')')?.parse::<usize>().ok()
    };
    match lhs.as_str() {
        "option vendor-class-identifier" => value.text().map(|v| ("vendor_class", v)),
        "option user-class" => value.text().map(|v| ("user_class", v)),
        "option pxe-system-type" | "option arch" | "option client-system-architecture" => {
            value.arch().map(|v| ("arch", v))
        }
        "option agent.circuit-id" => Some(value.either("circuit_id")),
        "option agent.remote-id" => Some(value.either("remote_id")),
        _ if substring("option vendor-class-identifier", "0") == Some(value.len()) => {
            value.text().map(|v| ("vendor_class_prefix", v))
        }
        _ if substring("hardware", "1") == Some(value.len()) => {
            value.hex().map(|v| ("mac_prefix", v))
        }
        _ => None,
    }
}

/// The right-hand side of a test: a string or colon-separated hex octets.
enum Value {
    Text(String),
    Octets(Vec<u8>),
}

impl Value {
    fn parse(rhs: &[Token]) -> Option<Value> {
        match rhs {
            [
                Token {
                    kind: Kind::Str(v), ..
                },
            ] => Some(Value::Text(String::from_utf8_lossy(v).into_owned())),
            [
                Token {
                    kind: Kind::Word(w),
                    ..
                },
            ] => w
                .split(':')
                .map(|o| u8::from_str_radix(o, 16).ok())
                .collect::<Option<Vec<u8>>>()
                .filter(|v| !v.is_empty())
                .map(Value::Octets),
            _ => None,
        }
    }

    fn len(&self) -> usize {
        match self {
            Value::Text(s) => s.len(),
            Value::Octets(v) => v.len(),
        }
    }

    fn text(&self) -> Option<String> {
        match self {
            Value::Text(s) => Some(format!("[{}]", quoted(s))),
            Value::Octets(_) => None,
        }
    }

    fn hex(&self) -> Option<String> {
        match self {
            Value::Octets(v) => Some(format!("[{}]", quoted(&hex(v)))),
            Value::Text(_) => None,
        }
    }

    fn arch(&self) -> Option<String> {
        match self {
            Value::Octets(v) if v.len() == 2 => {
                Some(format!("[{}]", u16::from_be_bytes([v[0], v[1]])))
            }
            _ => None,
        }
    }

    /// `KEY = ["text"]` for a string, `KEY_hex = ["01:02"]` for octets.
    fn either(&self, key: &'static str) -> (&'static str, String) {
        match (self, key) {
            (Value::Text(_), _) => (key, self.text().unwrap_or_default()),
            (Value::Octets(_), "circuit_id") => ("circuit_id_hex", self.hex().unwrap_or_default()),
            (Value::Octets(_), _) => ("remote_id_hex", self.hex().unwrap_or_default()),
        }
    }
}

fn hex(v: &[u8]) -> String {
    v.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Keys a `[[class]]` may set from dhcpd's options.
const CLASS_KEYS: [&str; 5] = [
    "dns_servers",
    "domain_name",
    "domain_search",
    "ntp_servers",
    "mtu",
];

/// Writes each class as a `[[class]]`; what a class sets that tandem's
/// classes cannot is reported.
pub(super) fn emit(out: &mut String, classes: &[IscClass], skipped: &mut Vec<Skipped>) {
    for c in classes {
        let _ = writeln!(out, "\n[[class]]");
        kv(out, "name", &quoted(&c.name));
        kv(out, c.rule.0, &c.rule.1);
        let p = &c.params;
        let unsupported = [
            (
                p.default_lease.is_some() || p.max_lease.is_some() || p.min_lease.is_some(),
                "lease times",
            ),
            (p.authoritative.is_some(), "authoritative"),
            (p.ping.is_some(), "ping-check"),
        ];
        for (_, what) in unsupported.iter().filter(|(set, _)| *set) {
            skipped.push(Skipped {
                line: c.line,
                what: format!("class {:?} {what}", c.name),
                why: "a class's own lease times, authoritative and ping-check are not in tandem: set them per subnet or server".into(),
            });
        }
        if let Some(a) = p.next_server {
            kv(out, "next_server", &quoted(&a.to_string()));
        }
        for (key, v) in [
            ("boot_file", &p.filename),
            ("server_hostname", &p.server_name),
        ] {
            if let Some(v) = v {
                kv(out, key, &quoted(v));
            }
        }
        options(out, p, skipped);
    }
}

/// A class's options: the keys a `[[class]]` may set, the rest as
/// `[[class.option]]`s, and what it may not set reported.
fn options(out: &mut String, p: &Params, skipped: &mut Vec<Skipped>) {
    let mut numbered = Vec::new();
    for (name, value, line) in &p.options {
        let why = match options::map(name, value) {
            Mapped::Key(k, v) if CLASS_KEYS.contains(&k) => {
                kv(out, k, &v);
                continue;
            }
            Mapped::Numbered(code, t, v) => {
                numbered.push((code, t, v));
                continue;
            }
            Mapped::Key(k, _) => format!("a class may not set {k}: set it per subnet"),
            Mapped::Not(why) => why,
        };
        skipped.push(Skipped {
            line: *line,
            what: format!("option {name}"),
            why,
        });
    }
    super::emit::numbered_options(out, "class", numbered);
}
