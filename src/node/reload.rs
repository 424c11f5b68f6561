//! Taking a reloaded configuration (SIGHUP, `tandem reload`): checked by
//! `config::reload`, then against the leases (a pool range given up must
//! hold no active lease), then applied to the engine, the lease store, the
//! rate limiter and the peer together. A refusal names every key and keeps
//! the running configuration whole.

use super::Node;
use crate::config::reload::{self, Refusal};
use crate::config::{Config, Range};
use crate::failover::PeerConfig;
use crate::lease::LeaseState;
use crate::time::Time;
use serde_json::{Value, json};
use std::sync::Arc;

impl Node {
    /// Applies `file` (the re-read configuration file, with the runtime
    /// reservations laid over it) or refuses it; the answer for the
    /// operator says which, and lists runtime reservations it leaves out.
    pub(super) fn reload(&mut self, now: Time, file: Arc<Config>) -> Value {
        let (config, shadowed) = file.with_runtime(&self.runtime);
        let config = Arc::new(config);
        let refused = match reload::check(&self.config, &config) {
            Ok(change) => self.held_in(&change.vacated),
            Err(r) => r,
        };
        if !refused.is_empty() {
            return refusal(&refused);
        }
        self.engine.reconfigure(config.clone());
        self.store.reconfigure(&config);
        let s = &config.server;
        self.limiter
            .set_limits(s.client_rate_limit, s.global_rate_limit);
        if let (Some(p), Some(cfg)) = (&mut self.peer, PeerConfig::from_config(&config)) {
            p.reconfigure(now, cfg);
        }
        let reservations: usize = file.subnets.iter().map(|s| s.reservations.len()).sum();
        let mut summary = json!({
            "ok": true,
            "subnets": config.subnets.len(),
            "pools": config.pools.len(),
            "reservations": reservations,
        });
        if !shadowed.is_empty() {
            for s in &shadowed {
                tracing::warn!(client = %s.entry.client, address = ?s.entry.address, why = %s.why, "runtime reservation not applied");
            }
            summary["runtime_reservations_not_applied"] =
                super::reservations::left_out_json(&shadowed).into();
        }
        self.shadowed = shadowed;
        self.file_config = file;
        tracing::info!(
            subnets = config.subnets.len(),
            pools = config.pools.len(),
            reservations,
            "configuration reloaded"
        );
        self.config = config;
        summary
    }

    /// A refusal for each given-up pool range that still holds active leases.
    fn held_in(&self, vacated: &[Range]) -> Vec<Refusal> {
        vacated
            .iter()
            .filter_map(|r| {
                let (first, last) = (u32::from(r.first), u32::from(r.last));
                let held = self
                    .store
                    .iter()
                    .filter(|l| l.state == LeaseState::Active)
                    .filter(|l| (first..=last).contains(&u32::from(l.addr)))
                    .count();
                (held > 0).then(|| Refusal {
                    key: "subnet.pools".into(),
                    why: format!(
                        "{}-{} would leave the pools with {held} active leases; wait until they end or keep the range",
                        r.first, r.last
                    ),
                })
            })
            .collect()
    }
}

/// The answer to a refused reload, every refusal logged and listed.
fn refusal(refused: &[Refusal]) -> Value {
    for r in refused {
        tracing::warn!(key = %r.key, why = %r.why, "reload refused; the running configuration stays");
    }
    let list: Vec<Value> = refused
        .iter()
        .map(|r| json!({ "key": r.key, "why": r.why }))
        .collect();
    let error = refused
        .iter()
        .map(|r| format!("{}: {}", r.key, r.why))
        .collect::<Vec<_>>()
        .join("; ");
    json!({ "ok": false, "error": error, "refused": list })
}
