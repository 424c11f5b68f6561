//! Which version of a binding wins when the partner's update meets ours
//! (DESIGN.md 3.2, after draft-ietf-dhc-failover-12 section 7.1.3). The rules
//! are symmetric: both peers pick the same winner, so when one rejects an
//! update and sends its own version back, the other accepts it and both
//! databases converge.

use crate::lease::{Lease, LeaseState};
use crate::time::Time;

mod dns;

/// How far ahead of our clock the partner's expiry of a binding is accepted.
pub const EXPIRY_GRACE: u64 = 10;

/// The decision on one incoming binding update (`resolve`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Store this record: the incoming one (merged with ours where both
    /// describe one client).
    Accept(Lease),
    /// Keep ours; the partner must be sent our version so it converges.
    /// `merged` is ours raised by the partner's longer commitments to the
    /// same client, to store (and send) in place of ours. `close`: the
    /// decision hangs on times within [`CLOSE_CALL`] seconds, where the two
    /// peers' views of each other's clock may disagree (see `yield_to`).
    Reject {
        /// Which rule kept ours, for the reject message and the log.
        why: &'static str,
        /// Ours raised by the partner's longer commitments, if that changed anything.
        merged: Option<Lease>,
        /// The decision rests on times within `CLOSE_CALL` seconds.
        close: bool,
    },
}

/// How far apart two peers' conversions of the same times may be: each
/// measures the other's clock to a second or two, from whole-second stamps;
/// this leaves a wide margin (`tests/reconcile.rs` checks settling with
/// views up to 8 s apart).
pub const CLOSE_CALL: u64 = 10;

fn same_client(a: &Lease, b: &Lease) -> bool {
    a.client().is_some() && a.client() == b.client()
}

/// Resolves `incoming` (from the partner, who is the primary if
/// `sender_primary`) against our `local` record at `now`.
pub fn resolve(
    local: Option<&Lease>,
    incoming: &Lease,
    now: Time,
    sender_primary: bool,
) -> Resolution {
    let Some(l) = local else {
        return Resolution::Accept(incoming.clone());
    };
    let incoming_wins = beats(incoming, l, now, sender_primary);
    // Two views of the same binding (one state, client and owner, times
    // apart): nothing to dispute. Both sides store the winner raised by the
    // other's commitments, and neither needs the other's version back.
    let settle = |winner: &Lease, loser: &Lease| acked_as_sent(combine(winner, loser), incoming);
    if l.state == incoming.state && l.owner == incoming.owner && l.client() == incoming.client() {
        let incoming_wins = later_registration(incoming, l).unwrap_or(incoming_wins);
        return Resolution::Accept(if incoming_wins {
            settle(incoming, l)
        } else {
            settle(l, incoming)
        });
    }
    if incoming_wins {
        return Resolution::Accept(settle(incoming, l));
    }
    let merged = settle(l, incoming);
    Resolution::Reject {
        why: why_kept(l, incoming),
        merged: (merged != *l).then_some(merged),
        close: is_close_call(l, incoming, now, sender_primary),
    }
}

/// Between two versions of one binding made at the same time, whether
/// `a`'s DNS registration is the later one (`None` when the times differ
/// or the registrations do not). A server's second grant to a client in
/// one second (a retransmitted REQUEST) registers again above the first
/// (`DnsRecords::tag`); the tie-break by role would keep the first, and
/// with it a registration whose records the second's work replaced
/// (simulator seed 37043140). Antisymmetric like `beats`: both peers keep
/// the same version.
fn later_registration(a: &Lease, b: &Lease) -> Option<bool> {
    let (x, y) = (a.dns.as_deref()?, b.dns.as_deref()?);
    (a.cltt == b.cltt && x.tag != y.tag).then_some(x.tag > y.tag)
}

/// What a peer stores when it gives way in a dispute it keeps losing on
/// both sides (a close call each peer judged with its own clock): the
/// incoming version, raised by ours where both describe one client.
pub fn yield_to(local: &Lease, incoming: &Lease) -> Lease {
    acked_as_sent(combine(incoming, local), incoming)
}

/// Which version ends a close call disputed twice (each peer judging with
/// its own view of the other's clock): whether the receiver takes
/// `incoming` (from the partner, the primary if `sender_primary`) over its
/// `local` record. Both peers compute the same answer.
///
/// An active binding beats any version that is not one: the times cannot
/// say which came last, and only keeping the binding is safe either way
/// (the address stays out of use until the binding ends, where the other
/// choice frees an address a client may hold; simulator seed 22234459
/// freed one its client had been granted 6 s after it declined it).
/// Between two active bindings, or two versions that are not, the
/// primary's wins.
pub fn close_call_takes(local: &Lease, incoming: &Lease, sender_primary: bool) -> bool {
    let bound = |l: &Lease| l.state == LeaseState::Active;
    match (bound(incoming), bound(local)) {
        (true, false) => true,
        (false, true) => false,
        _ => sender_primary,
    }
}

/// Whether shifting the incoming record's times and our clock, each by up
/// to `CLOSE_CALL` seconds, would change the outcome: then the partner, who
/// converts our times with its own estimate of the offset, may have decided
/// the other way, and both would keep refusing each other.
fn is_close_call(local: &Lease, incoming: &Lease, now: Time, sender_primary: bool) -> bool {
    let c = CLOSE_CALL as i64;
    let base = beats(incoming, local, now, sender_primary);
    [-c, 0, c].into_iter().any(|d_times| {
        let moved = incoming.shifted(d_times);
        [-c, 0, c].into_iter().any(|d_now| {
            let clock = Time(now.0.saturating_add_signed(d_now));
            beats(&moved, local, clock, sender_primary) != base
        })
    })
}

/// Whether record `a` wins over `b`, the other server's version of the same
/// address (`a_primary`: `a` is the primary's). The relation is
/// antisymmetric: `beats(a, b, t, p) == !beats(b, a, t, !p)` for any two
/// records, so both servers, each holding one version and receiving the
/// other, keep the same one. The only input that is not in the records is
/// `now`, in the one case where it must be: a partner's expiry of a binding
/// we still hold active is believed only when our own expiry is near.
pub fn beats(a: &Lease, b: &Lease, now: Time, a_primary: bool) -> bool {
    use LeaseState::*;
    let later = a.cltt > b.cltt || (a.cltt == b.cltt && a_primary);
    match (a.state, b.state) {
        (Active, Active) => later,
        (Active, Free) => true,
        (Free, Active) => false,
        (Expired, Active) => expiry_stands(a, b, now),
        (Active, Expired) => !expiry_stands(b, a, now),
        (Released, Active) => release_stands(a, b),
        (Active, Released) => !release_stands(b, a),
        // A decline carries no client (the address is in use by someone
        // unknown); it and a grant are ordered by time alone, and the
        // decline wins ties.
        (Declined, Active) => a.cltt >= b.cltt,
        (Active, Declined) => a.cltt > b.cltt,
        // Neither is bound: the later transaction wins; at equal times the
        // state further along its life (a declined address whose probation
        // ended is free; a release comes after the grant's expiry time).
        _ => {
            let (ka, kb) = ((a.cltt, rank(a.state)), (b.cltt, rank(b.state)));
            ka > kb || (ka == kb && a_primary)
        }
    }
}

/// A partner's "expired" for the binding we hold active: the same client,
/// no renewal since, and our expiry is due (within the clock allowance).
fn expiry_stands(expired: &Lease, active: &Lease, now: Time) -> bool {
    same_client(expired, active)
        && expired.cltt >= active.cltt
        && active.expires <= now.plus(EXPIRY_GRACE)
}

/// A release of the binding held active elsewhere, with no renewal since.
fn release_stands(released: &Lease, active: &Lease) -> bool {
    same_client(released, active) && released.cltt >= active.cltt
}

fn rank(s: LeaseState) -> u8 {
    match s {
        LeaseState::Declined => 0,
        LeaseState::Free => 1,
        LeaseState::Expired => 2,
        LeaseState::Released => 3,
        LeaseState::Active => 4,
    }
}

fn why_kept(local: &Lease, incoming: &Lease) -> &'static str {
    use LeaseState::*;
    match (local.state, incoming.state) {
        (Active, Free) => "an active binding is never overwritten by a free one",
        (Active, Active) => "address is bound to another client by a later transaction",
        (Active, Expired | Released) => "the binding is still active here",
        (Declined, Active) => "address was declined after that grant",
        _ => "a later transaction is recorded here",
    }
}

/// What we store after seeing the partner's version `incoming`: `kept`,
/// acknowledged only as far as the partner is committed. It holds its own
/// version and nothing more: an acknowledgement it gave for an earlier
/// binding of the address no longer stands once it sends this one, since a
/// binding that ended (released, expired) and began again carries a fresh,
/// possibly shorter, potential expiry; and nothing it holds speaks for our
/// client when its version binds another (or none where ours binds one).
/// Where we keep ours, the partner is about to take it, with our potential
/// expiry. Raising our acknowledged
/// potential expiry from an ended binding let a peer renew a client past
/// the MCLT bound the partner kept (simulator seed 23243386). Lower is
/// always safe: it only shortens what we may grant; the partner's
/// acknowledgement of our version raises it again.
fn acked_as_sent(mut kept: Lease, incoming: &Lease) -> Lease {
    kept.acked_potential_expiry = if kept.client() == incoming.client() {
        incoming.acked_potential_expiry.min(kept.potential_expiry)
    } else {
        Time::ZERO
    };
    kept
}

/// The winner, raised by the loser's commitments when both describe one
/// client: no server may free the address while the client might hold it,
/// so potential expiries (and, between grant and expiry, the expiry time)
/// take the larger of the two. Computed the same on both sides; the
/// acknowledged potential expiry is the winner's (see `acked_as_sent`).
fn combine(winner: &Lease, loser: &Lease) -> Lease {
    use LeaseState::*;
    let mut m = winner.clone();
    m.dns = dns::merged(winner, loser);
    if !same_client(winner, loser) {
        return m;
    }
    m.potential_expiry = winner.potential_expiry.max(loser.potential_expiry);
    if matches!(winner.state, Active | Expired) && matches!(loser.state, Active | Expired) {
        if loser.expires > winner.expires {
            m.expires = loser.expires;
            m.lease_time = loser.lease_time;
        }
        m.cltt = winner.cltt.max(loser.cltt);
        if loser.starts != Time::ZERO && (m.starts == Time::ZERO || loser.starts < m.starts) {
            m.starts = loser.starts;
        }
    }
    m
}

#[cfg(test)]
mod tests;
