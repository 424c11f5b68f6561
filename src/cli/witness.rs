//! `tandem witness`: the third party of a pair (`failover::witness`). It
//! answers each authentic heartbeat with how long it has gone without
//! hearing the sender's partner, and logs when a peer falls silent or
//! comes back. It keeps nothing on disk and decides nothing: each peer
//! judges for itself.

use super::serve::{LogFormat, init_logs, shutdown_signal};
use crate::failover::witness::{DEFAULT_PORT, Witness, WitnessKey};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Seconds without a heartbeat after which a peer is logged as silent.
const SILENT_AFTER_MS: u64 = 5_000;

/// `tandem witness`: listens on UDP `listen` ("address[:port]", port 647
/// when absent) for the pair whose key is in `secret_file`, until SIGTERM
/// or SIGINT. Errors: a bad address or filter, a key file that cannot be
/// read or is open to others, a port that cannot be bound.
pub fn run(
    listen: &str,
    secret_file: &Path,
    log: Option<&str>,
    format: LogFormat,
) -> anyhow::Result<ExitCode> {
    init_logs(log, format)?;
    let addr: SocketAddr = listen
        .parse()
        .or_else(|_| format!("{listen}:{DEFAULT_PORT}").parse())
        .with_context(|| format!("{listen:?} is not an address with an optional port"))?;
    let psk = crate::keyfile::load(secret_file)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(addr, WitnessKey::derive(&psk)))?;
    Ok(ExitCode::SUCCESS)
}

/// The two peers as the witness has heard them, for its log.
struct Heard {
    started: Instant,
    witness: Witness,
    /// Whether each peer (secondary, primary) is logged as silent now.
    silent: [bool; 2],
    refused: u64,
}

const ROLE: [&str; 2] = ["secondary", "primary"];

impl Heard {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The report for datagram `d` from `from`, if it is an authentic heartbeat.
    fn datagram(&mut self, key: &WitnessKey, d: &[u8], from: SocketAddr) -> Option<Vec<u8>> {
        let h = match key.open_heartbeat(d) {
            Ok(h) => h,
            Err(e) => {
                if self.refused.is_multiple_of(100) {
                    tracing::warn!(%from, error = %e, refused = self.refused + 1, "datagram refused");
                }
                self.refused += 1;
                return None;
            }
        };
        let now = self.now_ms();
        let role = usize::from(h.primary);
        if self.witness.silent_ms(now, h.primary).is_none() || self.silent[role] {
            tracing::info!(peer = ROLE[role], %from, "peer heard");
            self.silent[role] = false;
        }
        Some(key.seal_report(&self.witness.heartbeat(now, &h)))
    }

    /// Logs each peer that has just gone silent.
    fn check_silence(&mut self) {
        let now = self.now_ms();
        for (role, name) in ROLE.iter().enumerate() {
            let quiet = self.witness.silent_ms(now, role == 1);
            if !self.silent[role] && quiet.is_some_and(|ms| ms >= SILENT_AFTER_MS) {
                tracing::warn!(peer = name, "peer silent for 5 s");
                self.silent[role] = true;
            }
        }
    }
}

async fn serve(addr: SocketAddr, key: WitnessKey) -> anyhow::Result<()> {
    let sock = tokio::net::UdpSocket::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(%addr, version = env!("CARGO_PKG_VERSION"), "tandem witness listening");
    let mut heard = Heard {
        started: Instant::now(),
        witness: Witness::new(0),
        silent: [false; 2],
        refused: 0,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut buf = [0u8; 512];
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            _ = tick.tick() => heard.check_silence(),
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, from)) => {
                    if let Some(report) = heard.datagram(&key, &buf[..n], from)
                        && let Err(e) = sock.send_to(&report, from).await
                    {
                        tracing::debug!(%from, error = %e, "report not sent");
                    }
                }
                Err(e) => tracing::debug!(error = %e, "witness socket"),
            },
        }
    }
}
