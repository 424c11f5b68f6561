//! dhcpd.conf's `failover peer` statement, as the values of `[failover]`.

use super::statements::Statement;
use super::{Failover, Walk, word};

/// `failover peer "NAME" { ... }`.
pub(super) fn failover(w: &mut Walk, s: &Statement<'_>, body: &[Statement<'_>]) {
    let mut f = Failover {
        line: s.line,
        ..Failover::default()
    };
    for st in body {
        let num = |i| word(st, i).and_then(|v| v.parse::<u64>().ok());
        let words: Vec<&str> = (0..st.head.len()).filter_map(|i| word(st, i)).collect();
        match words.as_slice() {
            ["primary"] => f.primary = Some(true),
            ["secondary"] => f.primary = Some(false),
            ["address", a] => f.address = Some(a.to_string()),
            ["port", p] => f.port = p.parse().ok(),
            ["peer", "address", a] => f.peer_address = Some(a.to_string()),
            ["peer", "port", p] => f.peer_port = p.parse().ok(),
            ["mclt", _] => f.mclt = num(1),
            ["split", _] => f.split = num(1),
            ["max-response-delay", _] => f.max_response_delay = num(1),
            ["load", "balance", "max", "seconds", _] => f.load_balance_max_secs = num(4),
            ["auto-partner-down", _] => f.auto_partner_down = num(1),
            ["max-unacked-updates", _]
            | ["max-lease-misbalance", _]
            | ["max-lease-ownership", _]
            | ["min-balance", _]
            | ["max-balance", _] => w.skip(
                st,
                "tandem sets its own update window and rebalances by itself",
            ),
            _ => w.skip(st, "no tandem equivalent in [failover]"),
        }
    }
    if w.failover.is_some() {
        w.skip(s, "a second failover peer: tandem has one partner");
    } else {
        w.failover = Some(f);
    }
}
