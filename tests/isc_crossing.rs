//! Crossed binding updates between tandem and an ISC dhcpd 4.4 (issue 19):
//! both send their version of one address at once, and each judges the
//! other's while its own is unacknowledged. tandem judges by
//! `reconcile::resolve`; dhcpd by the simulator's model of its rules
//! (`sim::isc::rules`), read from ISC
//! 4.4.3's `server/failover.c` (`failover_lease_is_better` for a lease on
//! its ack queue, then `normal_binding_state_transition_check` in NORMAL
//! or `conflict_binding_state_transition_check` elsewhere). A version
//! tandem kept goes to dhcpd again, which judges it with nothing of its own
//! pending; when the two took each other's, tandem offers the one it took
//! (`Peer::acknowledged` beside dhcpd, tested there: dhcpd dropped its own
//! and never offers it again). Whatever the two versions, the roles and
//! dhcpd's state, the pair must not end with an address bound to a client
//! on one side and given up on the other (free to give, expired, released
//! or abandoned): a second client could be given it. One case stays, as
//! between two dhcpd: a primary in NORMAL refuses an expiry of a binding
//! it holds until its own timer ends it (within 65 s here); tandem's
//! refused expiry is no acknowledged one, so it does not give the address
//! meanwhile. dhcpd stores a taken expiry or release as FREE. tandem is
//! `resolve` alone here: one clock, no close-call dispute
//! (`Dispute::both_kept`), which the simulator covers between two tandem
//! peers; the versions are thirteen of one address around `NOW`, with
//! potential expiries past and MCLT ahead.

use tandem::failover::isc::binding::from_wire;
use tandem::failover::message::WireLease;
use tandem::failover::reconcile::{Resolution, resolve};
use tandem::lease::{Lease, LeaseState, Owner};
use tandem::proto::HwAddr;
use tandem::sim::isc::rules::{self, IscLease};
use tandem::time::Time;

const NOW: u64 = 1_000_000;

/// ISC's binding-status of a tandem record, as the session sends it.
fn isc(l: &Lease) -> u8 {
    from_wire(&WireLease::from_lease(l))
        .status
        .expect("every record has a status")
}

/// dhcpd's record of a tandem version (the simulator's dhcpd model holds
/// the same fields: `sim::isc::rules`).
fn as_isc(l: &Lease) -> IscLease {
    let mut r = IscLease::new(l.addr);
    r.status = isc(l);
    r.ends = l.expires.0 as u32;
    r.cltt = l.cltt.0 as u32;
    r
}

/// `failover_lease_is_better`: whether dhcpd keeps its own version
/// `ours` (on its ack queue) over `incoming`.
fn isc_prefers_its_own(ours: &Lease, incoming: &Lease, isc_primary: bool) -> bool {
    rules::prefers_its_own(
        &as_isc(ours),
        isc(incoming),
        incoming.cltt.0 as u32,
        isc_primary,
    )
}

/// The two transition checks: whether dhcpd, holding `ours`, takes
/// `incoming` (whose potential expiry is the `tsfp` ISC checks).
fn isc_transition_ok(ours: &Lease, incoming: &Lease, isc_primary: bool, normal: bool) -> bool {
    let pe = incoming.potential_expiry.0 as u32;
    rules::transition_ok(
        &as_isc(ours),
        isc(incoming),
        pe,
        NOW as u32,
        isc_primary,
        normal,
    )
}

/// Whether dhcpd takes `incoming` holding `ours`, `pending` if its own
/// update of it is unacknowledged.
fn isc_accepts(
    ours: &Lease,
    incoming: &Lease,
    pending: bool,
    isc_primary: bool,
    normal: bool,
) -> bool {
    if pending && isc_prefers_its_own(ours, incoming, isc_primary) {
        return false;
    }
    isc_transition_ok(ours, incoming, isc_primary, normal)
}

fn version(state: LeaseState, owner: Owner, mac: u8, cltt: i64, expires: i64, pe: i64) -> Lease {
    let at = |d: i64| Time(NOW.saturating_add_signed(d));
    let mut l = Lease::free("10.0.0.5".parse().unwrap(), owner);
    l.state = state;
    if mac != 0 && state != LeaseState::Declined {
        l.hw = HwAddr::new(1, &[2, 0, 0, 0, 0, mac]);
    }
    l.cltt = at(cltt);
    l.starts = at(cltt);
    l.expires = at(expires);
    l.potential_expiry = at(pe);
    l.acked_potential_expiry = at(pe);
    l.lease_time = 600;
    l
}

/// What dhcpd stores of a version it took, or of its own once tandem
/// took it: an expiry or a release becomes FREE at once (`failover.c`
/// 5442-5455, 5590-5627; as the primary it may then pass the address to
/// the secondary, BACKUP: free either way).
fn isc_stored(l: &Lease) -> Lease {
    let mut s = l.clone();
    if matches!(l.state, LeaseState::Expired | LeaseState::Released) {
        s.state = LeaseState::Free;
        s.owner = Owner::Primary;
    }
    s
}

/// The versions either side may hold of one address at `NOW`.
fn versions() -> Vec<(&'static str, Lease)> {
    use LeaseState::*;
    let (p, s) = (Owner::Primary, Owner::Secondary);
    vec![
        ("active 1", version(Active, p, 1, -100, 500, 800)),
        ("active 1 renewed", version(Active, p, 1, -5, 595, 895)),
        ("active 1 ending", version(Active, p, 1, -590, 10, 310)),
        ("active 2", version(Active, p, 2, -50, 550, 850)),
        ("expired 1", version(Expired, p, 1, -100, -5, -5)),
        (
            "expired 1, MCLT ahead",
            version(Expired, p, 1, -100, -5, 295),
        ),
        ("released 1", version(Released, p, 1, -5, -5, -5)),
        (
            "released 1, MCLT ahead",
            version(Released, p, 1, -5, -5, 295),
        ),
        ("free", version(Free, p, 0, -200, -200, -200)),
        ("free, MCLT ahead", version(Free, p, 1, -5, -5, 295)),
        ("backup", version(Free, s, 0, -200, -200, -200)),
        ("backup, MCLT ahead", version(Free, s, 1, -5, -5, 295)),
        ("abandoned", version(Declined, p, 0, -5, 3595, 3595)),
    ]
}

fn bound(l: &Lease) -> bool {
    l.state == LeaseState::Active
}

/// The pair's end: (dhcpd's, tandem's) version after the crossing and
/// tandem's offer again of a version it kept.
fn cross(x: &Lease, y: &Lease, isc_primary: bool, normal: bool) -> (Lease, Lease) {
    let tandem_takes = resolve(Some(y), x, Time(NOW), isc_primary);
    let isc_took = isc_accepts(x, y, true, isc_primary, normal);
    let ours = match &tandem_takes {
        Resolution::Accept(l) => l.clone(),
        Resolution::Reject { merged, .. } => merged.clone().unwrap_or_else(|| y.clone()),
    };
    let tandem_took = matches!(tandem_takes, Resolution::Accept(_));
    let mut theirs = match (isc_took, tandem_took) {
        (true, _) => isc_stored(y),
        (false, true) => isc_stored(x),
        (false, false) => x.clone(),
    };
    // tandem offers again what it kept, or, when the two took each
    // other's, what it took (dhcpd dropped its own on taking ours).
    let offered = match tandem_takes {
        Resolution::Reject { .. } => true,
        Resolution::Accept(_) => isc_took,
    };
    if offered && isc_accepts(&theirs, &ours, false, isc_primary, normal) {
        theirs = isc_stored(&ours);
    }
    (theirs, ours)
}

/// dhcpd, the primary in NORMAL, holds `theirs` bound, which tandem's
/// `ours` says expired for the same client, and dhcpd's own timer ends it
/// within a minute (then it tells tandem).
fn isc_timer_ends_it(theirs: &Lease, ours: &Lease, isc_primary: bool, normal: bool) -> bool {
    isc_primary
        && normal
        && bound(theirs)
        && ours.state == LeaseState::Expired
        && theirs.client() == ours.client()
        && theirs.expires.0 <= NOW + 65
}

#[test]
fn crossed_updates_never_leave_a_binding_on_one_side_only() {
    let mut bad = Vec::new();
    for (xn, x) in versions() {
        for (yn, y) in versions() {
            for isc_primary in [true, false] {
                for normal in [true, false] {
                    let (theirs, ours) = cross(&x, &y, isc_primary, normal);
                    let one_sided = bound(&theirs) != bound(&ours)
                        || (bound(&theirs) && theirs.client() != ours.client());
                    if one_sided && !isc_timer_ends_it(&theirs, &ours, isc_primary, normal) {
                        bad.push(format!(
                            "dhcpd {xn} ({}), tandem {yn}, normal {normal}: dhcpd ends {:?} {:?}, tandem {:?} {:?}",
                            if isc_primary { "primary" } else { "secondary" },
                            theirs.state,
                            theirs.client(),
                            ours.state,
                            ours.client(),
                        ));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{} cases:\n{}", bad.len(), bad.join("\n"));
}
