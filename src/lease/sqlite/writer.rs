//! The lease journal's writer thread: gathers the node's batches into
//! transactions (group commit) and reports each as it becomes durable.

use super::super::journal::Batch;
use super::CommitEvent;
use rusqlite::{Connection, params};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Most leases written in one transaction, so one huge burst cannot hold a
/// transaction (and every waiting ACK) open for long.
const MAX_BATCH_LEASES: usize = 8192;
/// How long the writer waits after a commit that found work before it takes
/// what has queued: under load one fsync then covers several leases (each
/// DHCPACK waits at most this much longer), while a lone request after a
/// quiet spell is committed at once. Measured side by side
/// (`scripts/bench-builds.sh 1200`, session 11): the server's CPU per 1,000
/// leases at 1,200 leases/s is about 0.10 s with 2 ms and 0.085 s with 4 ms
/// (the ACK about 1 ms later on average); without a window it was 0.29 s.
pub(super) const COMMIT_WINDOW: Duration = Duration::from_millis(4);

/// The writer thread's loop: commits until the channel is closed and
/// drained, reporting each transaction on `events`.
pub(super) fn writer(
    conn: &mut Connection,
    path: &Path,
    rx: mpsc::Receiver<Batch>,
    events: tokio::sync::mpsc::UnboundedSender<CommitEvent>,
) {
    let mut pace = Pace::Idle;
    while let Some(batches) = next_transaction(&rx, &mut pace) {
        let upto = batches.last().map_or(0, |b| b.id);
        let started = Instant::now();
        let event = match write(conn, &batches) {
            Ok(leases) => CommitEvent::Committed {
                upto,
                leases,
                micros: started.elapsed().as_micros() as u64,
            },
            Err(e) => {
                tracing::error!(db = %path.display(), error = %e, "lease commit failed; the affected replies are withheld");
                CommitEvent::Failed {
                    upto,
                    error: e.to_string(),
                }
            }
        };
        let _ = events.send(event);
    }
}

/// Where the writer stands between transactions.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Pace {
    /// The last window gathered nothing: wait for work, commit it at once.
    Idle,
    /// The last transaction found work: more is likely coming.
    Busy,
    /// The last transaction stopped at [`MAX_BATCH_LEASES`]: work is queued.
    Backlog,
}

/// The batches of the next transaction; `None` once the channel is closed
/// and empty. Idle, the writer waits on the channel and commits the first
/// batch at once, with whatever is already queued, so a lone request after
/// a quiet spell waits for nothing but its own fsync. Busy, it sleeps out
/// [`COMMIT_WINDOW`] instead and then takes everything queued: one fsync
/// covers what arrived meanwhile, and a batch sent while the writer sleeps
/// wakes no one (one wake-up per commit, not per lease). A window that
/// gathers nothing makes the writer idle again. At most about
/// [`MAX_BATCH_LEASES`] leases go in one transaction; with more queued the
/// next one starts without a window.
pub(super) fn next_transaction(rx: &mpsc::Receiver<Batch>, pace: &mut Pace) -> Option<Vec<Batch>> {
    if *pace != Pace::Idle {
        if *pace == Pace::Busy {
            std::thread::sleep(COMMIT_WINDOW);
        }
        let batches = drain(rx, Vec::new());
        if !batches.is_empty() {
            *pace = pace_after(&batches);
            return Some(batches);
        }
    }
    let first = rx.recv().ok()?;
    let batches = drain(rx, vec![first]);
    *pace = pace_after(&batches);
    Some(batches)
}

fn pace_after(batches: &[Batch]) -> Pace {
    let leases: usize = batches.iter().map(|b| b.leases.len()).sum();
    if leases >= MAX_BATCH_LEASES {
        Pace::Backlog
    } else {
        Pace::Busy
    }
}

/// `batches` and what is queued behind them, up to about [`MAX_BATCH_LEASES`] leases.
fn drain(rx: &mpsc::Receiver<Batch>, mut batches: Vec<Batch>) -> Vec<Batch> {
    let mut count: usize = batches.iter().map(|b| b.leases.len()).sum();
    while count < MAX_BATCH_LEASES {
        let Ok(b) = rx.try_recv() else { break };
        count += b.leases.len();
        batches.push(b);
    }
    batches
}

pub(super) fn write(c: &mut Connection, batches: &[Batch]) -> rusqlite::Result<usize> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut n = 0;
    {
        let mut st = tx.prepare_cached(
            "INSERT OR REPLACE INTO lease (address, state, owner, client_id, htype, chaddr, hostname, relay_info,
             starts, expires, cltt, lease_time, potential_expiry, acked_potential_expiry, update_seq, dns)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?;
        for l in batches.iter().flat_map(|b| &b.leases) {
            st.execute(params![
                u32::from(l.addr),
                l.state.code(),
                l.owner.index() as i64,
                l.client_id,
                l.hw.htype,
                l.hw.bytes(),
                l.hostname,
                l.relay_info,
                l.starts.0 as i64,
                l.expires.0 as i64,
                l.cltt.0 as i64,
                l.lease_time,
                l.potential_expiry.0 as i64,
                l.acked_potential_expiry.0 as i64,
                l.update_seq as i64,
                l.dns.as_deref().map(super::rows::dns_text),
            ])?;
            n += 1;
        }
        let mut meta =
            tx.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
        for (k, v) in batches.iter().flat_map(|b| &b.meta) {
            meta.execute(params![k, v])?;
        }
    }
    tx.commit()?;
    Ok(n)
}

#[cfg(test)]
mod tests;
