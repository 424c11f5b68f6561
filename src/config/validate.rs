//! Raw config → typed `Config`, collecting every problem with its line:
//! this file holds the checker and the order of the sections; each section
//! has its own file below.

use super::raw::RawConfig;
use super::*;
use toml::Spanned;

struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text.as_bytes()[..offset.min(self.text.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn at<T>(&mut self, spanned: &Spanned<T>, key: impl Into<String>, message: impl Into<String>) {
        let line = self.line(spanned.span().start);
        self.problems.push(Problem {
            line,
            key: key.into(),
            message: message.into(),
        });
    }

    fn at_line(&mut self, line: usize, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            line,
            key: key.into(),
            message: message.into(),
        });
    }

    /// The value of a key that takes one of a few words: the `T` paired
    /// with its word in `choices`, `default` when the key is absent, and
    /// `default` with a problem naming the words when it is none of them.
    fn one_of<T: Copy>(
        &mut self,
        v: Option<&Spanned<String>>,
        key: &str,
        choices: &[(&str, T)],
        default: T,
    ) -> T {
        let Some(v) = v else { return default };
        if let Some((_, t)) = choices.iter().find(|(word, _)| word == v.get_ref()) {
            return *t;
        }
        let words: Vec<String> = choices.iter().map(|(w, _)| format!("{w:?}")).collect();
        let message = format!("{:?} is not one of {}", v.get_ref(), words.join(", "));
        self.at(v, key, message);
        default
    }
}

pub(super) fn validate(raw: RawConfig, text: &str) -> Result<Config, Vec<Problem>> {
    let mut c = Checker {
        text,
        problems: Vec::new(),
    };
    let server = server(&mut c, &raw.server);
    let failover = raw.failover.as_ref().map(|f| failover(&mut c, f));
    if raw.subnet.is_empty() {
        c.at_line(
            c.line(text.len()),
            "subnet",
            "no [[subnet]] is configured; tandem would serve nothing",
        );
    }
    let classes = class::classes(&mut c, &raw);
    let networks = shared::networks(&mut c, &raw);
    let mut subnets = Vec::new();
    let mut pools: Vec<Pool> = Vec::new();
    for (i, s) in raw.subnet.iter().enumerate() {
        let id = SubnetId(i as u32);
        let label = format!("subnet[{i}]");
        let net = shared::member(&mut c, s, i, &networks);
        let sub = match net {
            Some(k) => {
                let ids = (label.as_str(), id);
                shared::member_subnet(&mut c, s, ids, (k, &networks[k]), &mut pools, &classes)
            }
            None => subnet(&mut c, s, &label, id, &mut pools, &classes),
        };
        subnets.push(sub);
    }
    let shared_networks = shared::with_members(&mut c, &raw, networks, &subnets);
    cross_checks(&mut c, &raw, &subnets, &pools);
    let ddns = raw.ddns.as_ref().map(|d| ddns::ddns(&mut c, d, &subnets));
    if c.problems.is_empty() {
        Ok(Config {
            server,
            failover,
            subnets,
            pools,
            shared_networks,
            classes,
            ddns,
            held: Vec::new(),
        })
    } else {
        c.problems.sort_by_key(|p| p.line);
        // A setting a subnet inherits is reported once, where it is written.
        let mut seen = std::collections::HashSet::new();
        c.problems
            .retain(|p| seen.insert((p.line, p.message.clone())));
        Err(c.problems)
    }
}

mod class;
mod ddns;
mod failover;
mod option_checks;
mod overlaps;
mod server;
mod shared;
mod subnet;
use failover::failover;
use overlaps::cross_checks;
use server::server;
use subnet::subnet;

#[cfg(test)]
mod tests;
